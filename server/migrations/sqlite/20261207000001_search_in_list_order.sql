-- SQLite only: the search index of users and people hands out its
-- candidates in list order, so that a search can stop at its first full
-- page instead of reading and sorting every candidate (at a million rows a
-- rare name made of common parts had 500 of them to fetch: 3-4 ms).
--
-- FTS5 answers in the order of its rowids. The rowid here is a list key,
-- `created_at * 2^20 + (rowid mod 2^20)`: by creation second first, which
-- is the list's order (within a second the list orders by id, so a search
-- takes a second's candidates whole; see store/listing/sqlite.rs, which
-- uses the same 2^20). The low bits keep the keys of one second apart: two
-- rows share a key only if created in the same second with rowids 2^20
-- apart, which takes a million inserts in that second. A key holds a
-- creation second within 2^43 seconds of 1970 (278,000 years): what the
-- server's clock gives.
--
-- The table is contentless (it keeps no copy of the text and no rowid of
-- the row's): a search reads the matching rows from the table by their
-- creation second, and tests each with LIKE. Its triggers take an entry
-- out by naming the values and the key it was put in with, which `old`
-- holds, as they did before. Should a future migration rebuild either
-- table, it must drop and fill its search table again as below.

DROP TRIGGER users_search_insert;
DROP TRIGGER users_search_delete;
DROP TRIGGER users_search_update;
DROP TABLE users_search;
DROP TRIGGER people_search_insert;
DROP TRIGGER people_search_delete;
DROP TRIGGER people_search_update;
DROP TABLE people_search;

CREATE VIRTUAL TABLE users_search USING fts5 (
    email, name, content = '', tokenize = 'trigram'
);
INSERT INTO users_search (rowid, email, name)
SELECT created_at * 1048576 + (rowid & 1048575), email, name FROM users;

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, email, name)
    VALUES (new.created_at * 1048576 + (new.rowid & 1048575), new.email, new.name);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, email, name)
    VALUES ('delete', old.created_at * 1048576 + (old.rowid & 1048575), old.email, old.name);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, name, created_at ON users BEGIN
    INSERT INTO users_search (users_search, rowid, email, name)
    VALUES ('delete', old.created_at * 1048576 + (old.rowid & 1048575), old.email, old.name);
    INSERT INTO users_search (rowid, email, name)
    VALUES (new.created_at * 1048576 + (new.rowid & 1048575), new.email, new.name);
END;

CREATE VIRTUAL TABLE people_search USING fts5 (
    email, name, content = '', tokenize = 'trigram'
);
INSERT INTO people_search (rowid, email, name)
SELECT created_at * 1048576 + (rowid & 1048575), email, name FROM people;

CREATE TRIGGER people_search_insert AFTER INSERT ON people BEGIN
    INSERT INTO people_search (rowid, email, name)
    VALUES (new.created_at * 1048576 + (new.rowid & 1048575), new.email, new.name);
END;
CREATE TRIGGER people_search_delete AFTER DELETE ON people BEGIN
    INSERT INTO people_search (people_search, rowid, email, name)
    VALUES ('delete', old.created_at * 1048576 + (old.rowid & 1048575), old.email, old.name);
END;
CREATE TRIGGER people_search_update AFTER UPDATE OF email, name, created_at ON people BEGIN
    INSERT INTO people_search (people_search, rowid, email, name)
    VALUES ('delete', old.created_at * 1048576 + (old.rowid & 1048575), old.email, old.name);
    INSERT INTO people_search (rowid, email, name)
    VALUES (new.created_at * 1048576 + (new.rowid & 1048575), new.email, new.name);
END;
