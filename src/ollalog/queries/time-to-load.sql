-- Time to load: seconds from a load's first line to its runner reporting started, per load.
SELECT l.host,
       m.model,
       l.placement,
       l.time,
       round(epoch(min(e.time)) - epoch(l.time), 2) AS seconds_to_start,
       l.outcome,
       l.load_id
FROM loads AS l
JOIN load_models AS m USING (load_id)
LEFT JOIN evidence AS e ON e.load_id = l.load_id AND e.event = 'runner_started'
GROUP BY l.host, m.model, l.placement, l.time, l.outcome, l.load_id, l.file, l.line
ORDER BY l.host NULLS LAST, l.time, l.file, l.line
