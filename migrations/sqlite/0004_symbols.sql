-- Definitions found in a pin's text files (search-based go to definition): each a name, what it
-- defines (function, type, …), and where. Built once per pin by a background job.
CREATE TABLE pin_symbols (
    pin_id BIGINT NOT NULL REFERENCES pins (id),
    name   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    path   TEXT NOT NULL,
    line   BIGINT NOT NULL
);
CREATE INDEX pin_symbols_by_name ON pin_symbols (pin_id, name);
