-- An app is suspended, never deleted; the database now refuses a delete outright.
--
-- Why: a foreign key check takes a FOR KEY SHARE lock on the row it names, and every
-- onboarding create names its app. With many creates of one partner in flight, PostgreSQL
-- records the concurrent lockers of that one apps row as a MultiXact, rewritten for every
-- new locker (https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS):
-- about one MultiXact per legal entity + account pair, a fifth of PostgreSQL's CPU for
-- them. The two tables onboarding fills drop their key to apps; the legal entity's insert
-- requires its app to exist in the same statement, an account requires its legal entity of
-- the same app (which keeps its key), and since no app is ever deleted no row can lose its
-- app afterwards: the integrity the keys gave, without the lock.
CREATE FUNCTION apps_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an app is suspended, never deleted' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER apps_never_deleted BEFORE DELETE OR TRUNCATE ON apps FOR EACH STATEMENT EXECUTE FUNCTION apps_never_deleted();

ALTER TABLE legal_entities DROP CONSTRAINT legal_entities_app_id_fkey;
ALTER TABLE accounts DROP CONSTRAINT accounts_app_id_fkey;
