-- Witnesses' cosignatures on the log's checkpoints (C2SP tlog-cosignature lines, each verified with
-- the witness's key from the trust policy before it is stored). One per checkpoint and witness.
CREATE TABLE cosignatures (
    checkpoint_size BIGINT NOT NULL REFERENCES checkpoints (size),
    witness         TEXT NOT NULL, -- the witness's name in the policy
    line            TEXT NOT NULL, -- the signature line, without its newline
    cosigned_at     BIGINT NOT NULL, -- the cosignature's own timestamp, POSIX seconds
    received_at     BIGINT NOT NULL,
    PRIMARY KEY (checkpoint_size, witness)
);
CREATE INDEX cosignatures_by_witness ON cosignatures (witness, checkpoint_size);
CREATE TRIGGER cosignatures_no_update BEFORE UPDATE ON cosignatures
BEGIN SELECT RAISE(ABORT, 'cosignatures are append-only'); END;
CREATE TRIGGER cosignatures_no_delete BEFORE DELETE ON cosignatures
BEGIN SELECT RAISE(ABORT, 'cosignatures are append-only'); END;
