DROP FUNCTION entry_sort_text(text, text, jsonb);
DROP FUNCTION entry_sort_number(text, bigint, float8, timestamptz, timestamptz, float8, float8, jsonb);
