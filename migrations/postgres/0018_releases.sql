-- Releases (issue 36): supervisors' registered public keys, proposed releases with their frozen
-- dossiers, the supervisors' signatures and objections, and authorisations. Every table is
-- append-only; a release's state follows from the rows that name it (docs/releases.md).
CREATE TABLE account_keys (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    keyid         TEXT NOT NULL UNIQUE, -- SHA-256 of the SubjectPublicKeyInfo DER, hex (DSSE keyid)
    vkey          TEXT NOT NULL,        -- the key as registered: a C2SP note verifier key line
    registered_by BIGINT REFERENCES users (id), -- null: the operator
    registered_at BIGINT NOT NULL
);
CREATE INDEX account_keys_by_user ON account_keys (user_id, id);

CREATE TABLE releases (
    id           BIGSERIAL PRIMARY KEY,
    pin_id       BIGINT NOT NULL REFERENCES pins (id),
    version      TEXT NOT NULL,
    policy_id    BIGINT NOT NULL REFERENCES release_policies (id),
    statement    TEXT NOT NULL, -- the dossier: the in-toto statement, exact bytes
    statement_sha256 TEXT NOT NULL,
    envelope     TEXT NOT NULL, -- its DSSE envelope, signed by the vendor's attestation key
    rules_met    BIGINT NOT NULL, -- 1: every rule but the supervisors' was met when frozen
    replaces     BIGINT REFERENCES releases (id),
    proposed_by  BIGINT REFERENCES users (id), -- null: the operator
    proposed_at  BIGINT NOT NULL
);
CREATE INDEX releases_by_pin ON releases (pin_id, id);
CREATE INDEX releases_by_version ON releases (version, id);
CREATE UNIQUE INDEX releases_replaced_once ON releases (replaces);

CREATE TABLE release_decisions (
    id          BIGSERIAL PRIMARY KEY,
    release_id  BIGINT NOT NULL REFERENCES releases (id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    key_id      BIGINT NOT NULL REFERENCES account_keys (id),
    kind        TEXT NOT NULL CHECK (kind IN ('sign', 'object')),
    signature   TEXT NOT NULL, -- base64 Ed25519 signature (docs/releases.md)
    reason      TEXT NOT NULL, -- an objection's reason; empty for a signature
    decided_at  BIGINT NOT NULL,
    UNIQUE (release_id, user_id)
);

CREATE TABLE release_authorisations (
    release_id    BIGINT PRIMARY KEY REFERENCES releases (id),
    envelope      TEXT NOT NULL, -- the DSSE envelope with the vendor's and the supervisors' signatures
    authorised_at BIGINT NOT NULL
);

-- The public log (binary transparency, a SCITT Transparency Service): each leaf is a Signed
-- Statement's exact bytes; its index is its place in the log's RFC 9162 tree.
CREATE TABLE public_entries (
    idx          BIGINT PRIMARY KEY,
    entry_id     TEXT NOT NULL UNIQUE, -- SHA-256 of the statement, hex
    statement    TEXT NOT NULL,        -- the Signed Statement (COSE_Sign1), base64
    leaf_hash    TEXT NOT NULL,        -- SHA-256(0x00 ‖ statement), hex
    release_id   BIGINT REFERENCES releases (id), -- an authorised release's statement
    issuer       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    content_type TEXT NOT NULL,
    registered_by BIGINT REFERENCES users (id), -- a statement registered through POST /entries
    appended_at  BIGINT NOT NULL
);
CREATE TABLE public_subjects (
    sha256 TEXT NOT NULL, -- an artifact the entry names
    idx    BIGINT NOT NULL REFERENCES public_entries (idx),
    PRIMARY KEY (sha256, idx)
);
CREATE TABLE public_checkpoints (
    size      BIGINT PRIMARY KEY,
    root      TEXT NOT NULL, -- hex
    note      TEXT NOT NULL, -- the signed note
    signed_at BIGINT NOT NULL
);

CREATE TABLE public_cosignatures (
    size        BIGINT NOT NULL REFERENCES public_checkpoints (size),
    witness     TEXT NOT NULL,
    line        TEXT NOT NULL, -- the C2SP cosignature line, as the witness sent it
    cosigned_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (size, witness)
);

CREATE TRIGGER account_keys_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON account_keys
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_release_records_append_only();
CREATE TRIGGER releases_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON releases
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_release_records_append_only();
CREATE TRIGGER release_decisions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON release_decisions
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_release_records_append_only();
CREATE TRIGGER release_authorisations_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON release_authorisations
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_release_records_append_only();
CREATE TRIGGER public_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON public_entries
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_release_records_append_only();
CREATE TRIGGER public_subjects_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON public_subjects
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_release_records_append_only();
CREATE TRIGGER public_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON public_checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_release_records_append_only();
CREATE TRIGGER public_cosignatures_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON public_cosignatures
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_release_records_append_only();
