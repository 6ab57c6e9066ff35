-- The integrations overview (docs/api.md §14, package integrations).

-- name: IntegrationStates :many
SELECT * FROM integration_state ORDER BY name;
