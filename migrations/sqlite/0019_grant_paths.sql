-- The paths a grant is limited to: gitignore-style patterns, one a line (NULL: the whole tree). Fixed
-- when the grant is made; a different scope is a new grant.
ALTER TABLE grants ADD COLUMN paths TEXT;
