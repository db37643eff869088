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

-- When the pinned commit was made (its committer time), so releases order by their history, not by
-- when they were pinned.
ALTER TABLE pins ADD COLUMN committed_at BIGINT;

-- Where each text file of a pin is in the pin's search pack (every text file, concatenated, in
-- the data directory's index/), so that a search reads one file sequentially.
ALTER TABLE pin_files ADD COLUMN text_offset BIGINT;
ALTER TABLE pin_files ADD COLUMN text_length BIGINT;
