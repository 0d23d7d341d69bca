-- An app is suspended, never deleted; the database refuses a delete outright, as on
-- PostgreSQL. SQLite keeps every foreign key: its checks are reads under the one writer's
-- lock and lock no row (the PostgreSQL file says why that backend drops two of them).
CREATE TRIGGER apps_never_deleted BEFORE DELETE ON apps
BEGIN
    SELECT RAISE(ABORT, 'an app is suspended, never deleted');
END;
