-- The harness schema; run as role harness at image build time, so harness owns everything.
-- Users are sharded by user_id % 4; ids come from this shard's sequence (id = nextval * 4 + shard).
CREATE SEQUENCE user_seq;

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A photo job lives on its user's shard; completions counts how often a worker finished it
-- (more than 1 = processed twice, which the invariants report as a duplicate).
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    op TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    worker TEXT,
    result_digest TEXT,
    completions INT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    done_at TIMESTAMPTZ
);
