-- CPU fallbacks by host: loads that ran wholly on the CPU although the host has a GPU, why, and the num_ctx that would have kept layers on it.
WITH gpu_hosts AS (
    SELECT DISTINCT host FROM gpus WHERE library IS DISTINCT FROM 'cpu'
    UNION
    SELECT DISTINCT host FROM loads WHERE vram_available_bytes > 0 OR library NOT IN ('cpu')
)
SELECT l.host,
       m.model,
       l.time,
       l.ctx_size,
       l.num_ctx,
       l.parallel,
       l.layers_total,
       round(l.vram_available_bytes / 2^30, 1) AS vram_available_gib,
       round(l.required_full_bytes / 2^30, 1) AS required_full_gib,
       round(l.kv_bytes / 2^30, 1) AS kv_gib,
       v.cause,
       v.num_ctx_full_gpu,
       v.num_ctx_any_gpu,
       l.outcome,
       l.load_id
FROM loads AS l
JOIN load_models AS m USING (load_id)
LEFT JOIN verdicts AS v USING (load_id)
WHERE l.placement = 'cpu' AND l.host IN (SELECT host FROM gpu_hosts)
ORDER BY l.host NULLS LAST, l.time, l.file, l.line
