-- SQLite only (see db.rs for why the migrations are split by backend): an
-- index for searching users and people by any part of their email or name.
--
-- FTS5 with the trigram tokenizer indexes every run of three characters,
-- case-folded, so a quoted phrase of three or more characters matches
-- exactly the rows that contain it; shorter searches cannot use it (the
-- list falls back to reading rows in order). The query still rechecks each
-- row with the same LIKE as before, so the index only narrows the rows to
-- read and the answer is what a scan would give.
--
-- External content: the index stores no copy of the text, it reads `email`
-- and `name` from the table by rowid. Triggers keep it in step with every
-- insert, delete and change of email or name (a 'delete' must name the
-- values that were indexed, which `old` holds). Both tables have indexes,
-- and VACUUM keeps the rowids of such tables; should a future migration
-- rebuild either table, it must end with the 'rebuild' below again.

CREATE VIRTUAL TABLE users_search USING fts5 (
    email, name,
    content = 'users', content_rowid = 'rowid', tokenize = 'trigram'
);
-- Existing accounts: read from the table.
INSERT INTO users_search (users_search) VALUES ('rebuild');

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, email, name)
    VALUES ('delete', old.rowid, old.email, old.name);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, name ON users BEGIN
    INSERT INTO users_search (users_search, rowid, email, name)
    VALUES ('delete', old.rowid, old.email, old.name);
    INSERT INTO users_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;

CREATE VIRTUAL TABLE people_search USING fts5 (
    email, name,
    content = 'people', content_rowid = 'rowid', tokenize = 'trigram'
);
INSERT INTO people_search (people_search) VALUES ('rebuild');

CREATE TRIGGER people_search_insert AFTER INSERT ON people BEGIN
    INSERT INTO people_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;
CREATE TRIGGER people_search_delete AFTER DELETE ON people BEGIN
    INSERT INTO people_search (people_search, rowid, email, name)
    VALUES ('delete', old.rowid, old.email, old.name);
END;
CREATE TRIGGER people_search_update AFTER UPDATE OF email, name ON people BEGIN
    INSERT INTO people_search (people_search, rowid, email, name)
    VALUES ('delete', old.rowid, old.email, old.name);
    INSERT INTO people_search (rowid, email, name) VALUES (new.rowid, new.email, new.name);
END;
