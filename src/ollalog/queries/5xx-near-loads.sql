-- 5xx bursts next to loads: server errors on a load's host from `window_s` seconds before the load starts until `window_s` after it is done loading.
-- param window_s = 60: seconds before the load's first line and after its last loading line
-- A load is done loading when its runner reports started; one that never did, at its last
-- evidence line other than the scheduler's later notes on a runner (summaries, stop, eviction).
WITH spans AS (
    SELECT l.load_id, l.host, l.time AS started,
           coalesce(min(e.time) FILTER (WHERE e.event = 'runner_started'),
                    max(e.time) FILTER (WHERE e.event NOT IN ('runner_summary', 'runner_stopping', 'evicting',
                                                              'vram_not_recovered'))) AS ended
    FROM loads AS l LEFT JOIN evidence AS e USING (load_id)
    GROUP BY l.load_id, l.host, l.time
)
SELECT s.host,
       m.model,
       s.started AS load_time,
       l.placement,
       count(*) AS errors,
       string_agg(DISTINCT r.status::VARCHAR, ',' ORDER BY r.status::VARCHAR) AS statuses,
       min(r.time) AS first_error,
       max(r.time) AS last_error,
       s.load_id
FROM spans AS s
JOIN loads AS l USING (load_id)
JOIN load_models AS m USING (load_id)
JOIN requests AS r
  ON r.host IS NOT DISTINCT FROM s.host AND r.status >= 500
 AND r.time BETWEEN s.started - to_seconds($window_s::DOUBLE)
                AND coalesce(s.ended, s.started) + to_seconds($window_s::DOUBLE)
GROUP BY s.host, m.model, s.started, l.placement, s.load_id, l.file, l.line
ORDER BY s.host NULLS LAST, s.started, l.file, l.line
