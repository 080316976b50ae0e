-- VRAM not recovered: runners whose GPU memory had not come back when the next load was planned, and that load.
WITH warns AS (
    SELECT e.host, e.time, e.file, e.file_id, e.line, ev.load_id AS about
    FROM events AS e LEFT JOIN evidence AS ev
      ON ev.file_id = e.file_id AND ev.line = e.line
    WHERE e.event = 'vram_not_recovered'
),
nexts AS (
    SELECT w.file_id, w.line, n.load_id,
           row_number() OVER (PARTITION BY w.file_id, w.line ORDER BY n.time, n.file, n.line) AS k
    FROM warns AS w JOIN loads AS n
      ON n.host IS NOT DISTINCT FROM w.host AND n.time >= w.time
     AND n.load_id IS DISTINCT FROM w.about
)
SELECT w.host,
       w.time,
       am.model AS unloaded_model,
       nm.model AS next_model,
       n.placement AS next_placement,
       n.layers_offloaded AS next_layers_on_gpu,
       n.layers_total AS next_layers_total,
       round(n.vram_available_bytes / 2^30, 1) AS next_vram_available_gib,
       n.load_id AS next_load_id
FROM warns AS w
LEFT JOIN load_models AS am ON am.load_id = w.about
LEFT JOIN nexts AS x ON x.file_id = w.file_id AND x.line = w.line AND x.k = 1
LEFT JOIN loads AS n ON n.load_id = x.load_id
LEFT JOIN load_models AS nm ON nm.load_id = x.load_id
ORDER BY w.host NULLS LAST, w.time, w.file, w.line
