-- The sort keys of the entry lists (EntriesList, docs/api.md §5): the
-- number and the text an entry sorts by for one key, written once here
-- instead of once per sort position in the query. Both are plain SQL
-- expressions, STABLE like their body (extract of a timestamptz), so that
-- the planner inlines them: with the custom plans the lists run with
-- (ListPlanCustom) a constant key folds the CASE into one column, exactly
-- as the expression written in the query did.
CREATE FUNCTION entry_sort_number(key text, id bigint, kg_co2eq float8, created_at timestamptz, updated_at timestamptz,
                                  distance_km float8, surface_m2 float8, data jsonb) RETURNS float8
LANGUAGE sql STABLE AS $$
    SELECT CASE key
        WHEN 'id' THEN id::float8
        WHEN 'kg_co2eq' THEN kg_co2eq
        WHEN 'created_at' THEN (extract(epoch FROM created_at) * 1000000)::float8
        WHEN 'updated_at' THEN (extract(epoch FROM updated_at) * 1000000)::float8
        WHEN 'distance_km' THEN distance_km
        WHEN 'surface_m2' THEN coalesce(CASE WHEN jsonb_typeof(data -> 'surface_m2') = 'number' THEN (data ->> 'surface_m2')::float8 END, surface_m2)
        WHEN '' THEN NULL
        WHEN 'traveler_name' THEN NULL
        ELSE CASE jsonb_typeof(data -> key)
            WHEN 'number' THEN (data ->> key)::float8
            WHEN 'boolean' THEN CASE WHEN (data -> key)::boolean THEN 1 ELSE 0 END
        END
    END
$$;

CREATE FUNCTION entry_sort_text(key text, traveler_name text, data jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN key = 'traveler_name' THEN traveler_name
        WHEN key IN ('', 'id', 'kg_co2eq', 'created_at', 'updated_at', 'distance_km', 'surface_m2') THEN NULL
        WHEN jsonb_typeof(data -> key) = 'string' THEN lower(data ->> key)
    END
$$;
