-- Cluster mode's fence (ADR 0020): the highest writer token the database has accepted.
-- A node that wins the lease in Redis raises it to its token before it writes; each of
-- its record writes checks that the token is still its own, so a deposed writer's late
-- writes are refused. One row; a single node never touches it.
CREATE TABLE writer_fence (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    token BIGINT NOT NULL
);
INSERT INTO writer_fence (id, token) VALUES (1, 0);
