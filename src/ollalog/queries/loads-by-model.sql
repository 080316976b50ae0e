-- Loads per model and placement, per host: how often each model ran on the GPU, split between GPU and CPU, or on the CPU.
SELECT l.host,
       m.model,
       coalesce(l.placement, 'unknown') AS placement,
       count(*) AS loads,
       count(*) FILTER (WHERE l.outcome IN ('oom', 'crashed', 'timeout', 'refused')) AS failed,
       min(l.layers_offloaded) AS min_layers_on_gpu,
       max(l.layers_offloaded) AS max_layers_on_gpu,
       max(l.layers_total) AS layers_total,
       string_agg(DISTINCT l.ctx_size::VARCHAR, ',' ORDER BY l.ctx_size::VARCHAR) AS ctx_sizes,
       min(l.time) AS first_load,
       max(l.time) AS last_load
FROM loads AS l JOIN load_models AS m USING (load_id)
GROUP BY l.host, m.model, coalesce(l.placement, 'unknown')
ORDER BY l.host NULLS LAST, m.model, placement
