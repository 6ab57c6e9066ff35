-- Invalidation of the API's results and unit caches (docs/architecture.md
-- "Caches"): every change of what they hold notifies results_changes in its
-- own transaction, whatever code path makes it (API, worker, job, psql).
-- Payloads: 'units' (any unit changed: the unit cache is emptied),
-- 'unit:<id>' (the reports of unit <id> changed), 'all' (a year's
-- configuration changed, or a truncate: every cached report is dropped). NOTIFY folds
-- identical payloads of one transaction into one.

CREATE FUNCTION results_cache_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'units' THEN
        PERFORM pg_notify('results_changes', 'units');
    ELSIF TG_TABLE_NAME = 'years' OR TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('results_changes', 'all');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('results_changes', 'unit:' || OLD.unit_id);
    ELSE
        PERFORM pg_notify('results_changes', 'unit:' || NEW.unit_id);
        IF TG_OP = 'UPDATE' AND OLD.unit_id IS DISTINCT FROM NEW.unit_id THEN
            PERFORM pg_notify('results_changes', 'unit:' || OLD.unit_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER units_results_cache_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON units
    FOR EACH STATEMENT EXECUTE FUNCTION results_cache_notify();

CREATE TRIGGER years_results_cache_notify
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON years
    FOR EACH STATEMENT EXECUTE FUNCTION results_cache_notify();

CREATE TRIGGER carbon_reports_results_cache_notify
    AFTER INSERT OR UPDATE OR DELETE ON carbon_reports
    FOR EACH ROW EXECUTE FUNCTION results_cache_notify();

CREATE TRIGGER carbon_reports_results_cache_notify_truncate
    AFTER TRUNCATE ON carbon_reports
    FOR EACH STATEMENT EXECUTE FUNCTION results_cache_notify();

CREATE TRIGGER report_modules_results_cache_notify_change
    AFTER INSERT OR DELETE ON report_modules
    FOR EACH ROW EXECUTE FUNCTION results_cache_notify();

-- Only the columns the results read: an import marking a module dirty
-- notifies nothing.
CREATE TRIGGER report_modules_results_cache_notify_update
    AFTER UPDATE OF report_id, unit_id, year, module, status, recomputed_after_validation, stats ON report_modules
    FOR EACH ROW
    WHEN (OLD.report_id IS DISTINCT FROM NEW.report_id OR OLD.unit_id IS DISTINCT FROM NEW.unit_id
          OR OLD.year IS DISTINCT FROM NEW.year OR OLD.module IS DISTINCT FROM NEW.module
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.recomputed_after_validation IS DISTINCT FROM NEW.recomputed_after_validation
          OR OLD.stats IS DISTINCT FROM NEW.stats)
    EXECUTE FUNCTION results_cache_notify();

CREATE TRIGGER report_modules_results_cache_notify_truncate
    AFTER TRUNCATE ON report_modules
    FOR EACH STATEMENT EXECUTE FUNCTION results_cache_notify();
