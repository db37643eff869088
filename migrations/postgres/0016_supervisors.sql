-- The supervisor role: an outside organisation's account that authorises releases.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('staff', 'reviewer', 'regulator', 'builder', 'supervisor'));
