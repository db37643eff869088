-- Accounts can be disabled; API tokens carry scopes, an expiry and a revocation; sessions are
-- findable by their account (listing one's sessions, ending them all); sign-in failures are
-- counted per account in the database, shared by every instance.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
-- Sessions that started before this moment are over (sign out everywhere, a password change).
ALTER TABLE users ADD COLUMN sessions_after BIGINT NOT NULL DEFAULT 0;

ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN revoked_at BIGINT;
-- Tokens made before scopes existed: builders keep recording builds, every other token has no
-- scope (deny by default: reissue it with the scopes it needs); all expire 90 days after creation.
UPDATE api_tokens SET scopes = 'build:write' WHERE user_id IN (SELECT id FROM users WHERE role = 'builder');
UPDATE api_tokens SET expires_at = created_at + 7776000000;

ALTER TABLE sessions ADD COLUMN user_id BIGINT;
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE login_failures (
    account      TEXT PRIMARY KEY,   -- the normalised user name
    window_start BIGINT NOT NULL,    -- ms; failures are counted per hour from here
    failures     BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
);

-- Take-away policy per pin: staff may forbid raw downloads and copying (staff themselves excepted).
ALTER TABLE pins ADD COLUMN no_download BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pins ADD COLUMN no_copy BIGINT NOT NULL DEFAULT 0;

-- The optional second factor (TOTP): the secret (base32) once confirmed, one being set up, and the
-- last time step a code was accepted for (each code is good once).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- A repository imported from the console is copied by a background job: its row exists (with its
-- `repo.import` event) from the request on, marked importing until the copy is in place.
ALTER TABLE repositories ADD COLUMN importing BIGINT NOT NULL DEFAULT 0;
