-- A finding's CWE ids (MITRE's CWE list, checked by the server), as `79,787`; NULL for none.
ALTER TABLE comments ADD COLUMN cwe TEXT;
