ALTER TABLE report_modules DROP COLUMN stats_current_at;
