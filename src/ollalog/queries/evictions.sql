-- Evictions: loaded models the scheduler unloaded to make room, and the load that came next on the host.
WITH evicted AS (
    SELECT l.load_id, l.host, l.file, l.line, l.time AS loaded_at,
           min(e.time) FILTER (WHERE e.event IN ('evicting', 'vram_not_recovered')) AS evicted_at
    FROM loads AS l LEFT JOIN evidence AS e USING (load_id)
    WHERE l.outcome = 'evicted'
    GROUP BY l.load_id, l.host, l.file, l.line, l.time
),
nexts AS (
    SELECT v.load_id, n.load_id AS next_id,
           row_number() OVER (PARTITION BY v.load_id ORDER BY n.time, n.file, n.line) AS k
    FROM evicted AS v JOIN loads AS n
      ON n.host IS NOT DISTINCT FROM v.host AND n.time >= coalesce(v.evicted_at, v.loaded_at)
     AND n.load_id <> v.load_id
)
SELECT v.host,
       m.model,
       v.loaded_at,
       v.evicted_at,
       nm.model AS next_model,
       n.time AS next_load,
       n.placement AS next_placement,
       v.load_id
FROM evicted AS v
JOIN load_models AS m USING (load_id)
LEFT JOIN nexts AS x ON x.load_id = v.load_id AND x.k = 1
LEFT JOIN loads AS n ON n.load_id = x.next_id
LEFT JOIN load_models AS nm ON nm.load_id = x.next_id
ORDER BY v.host NULLS LAST, v.loaded_at, v.file, v.line
