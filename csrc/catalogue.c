/* The message catalogue (which event a message names), the month names of journald prefixes, and the
 * dictionaries of file, host and event names. */
#include "engine.h"

/* ---- catalogue ------------------------------------------------------------------------------- */

int lookup(const catalogue_t* c, const char* s, size_t n) {
  for (int i = 0; i < c->n_exact; i++)
    if (c->exact[i].len == n && memcmp(c->exact[i].text, s, n) == 0) return c->exact[i].event;
  for (int i = 0; i < c->n_prefix; i++)
    if (n >= c->prefix[i].len && memcmp(c->prefix[i].text, s, c->prefix[i].len) == 0) return c->prefix[i].event;
  for (int i = 0; i < c->n_contains; i++)
    if (find_sub(s, n, c->contains[i].text, c->contains[i].len)) return c->contains[i].event;
  return -1;
}

int event_id(ol_engine* e, const char* name, size_t n) {
  for (int i = 0; i < e->n_events; i++)
    if (e->events[i].n == n && memcmp(e->events[i].p, name, n) == 0) return i;
  name_t* v = (name_t*)realloc(e->events, (size_t)(e->n_events + 1) * sizeof(name_t));
  if (!v) {
    ol_fault_set(OL_FAULT_NOMEM);
    return -1;
  }
  e->events = v;
  v[e->n_events].p = (char*)malloc(n + 1);
  if (!v[e->n_events].p) {
    ol_fault_set(OL_FAULT_NOMEM);
    return -1;
  }
  memcpy(v[e->n_events].p, name, n);
  v[e->n_events].p[n] = 0;
  v[e->n_events].n = n;
  return e->n_events++;
}

int ol_engine_add_rule(ol_engine* e, const char* event, size_t event_len, int scope, int match,
                       const char* text, size_t text_len, ol_error* err) {
  if (scope < 0 || scope > 1 || match < 0 || match > 2) return err_set(err, OL_EINVAL, "bad rule scope or match");
  int id = event_id(e, event, event_len);
  if (id < 0) return err_set(err, OL_ENOMEM, "out of memory");
  catalogue_t* c = &e->cat[scope];
  rule_t** list = match == 0 ? &c->exact : match == 1 ? &c->prefix : &c->contains;
  int* count = match == 0 ? &c->n_exact : match == 1 ? &c->n_prefix : &c->n_contains;
  if (match == 0) /* exact rules: the first one for a text wins */
    for (int i = 0; i < c->n_exact; i++)
      if (c->exact[i].len == text_len && memcmp(c->exact[i].text, text, text_len) == 0) return OL_OK;
  rule_t* v = (rule_t*)realloc(*list, (size_t)(*count + 1) * sizeof(rule_t));
  if (!v) return err_set(err, OL_ENOMEM, "out of memory");
  *list = v;
  v[*count].text = (char*)malloc(text_len + 1);
  if (!v[*count].text) return err_set(err, OL_ENOMEM, "out of memory");
  memcpy(v[*count].text, text, text_len);
  v[*count].len = text_len;
  v[*count].event = id;
  (*count)++;
  return OL_OK;
}

/* ---- dictionaries ---------------------------------------------------------------------------- */

int64_t name_add(name_t** v, int64_t* n, const char* p, size_t len) {
  name_t* w = (name_t*)realloc(*v, (size_t)(*n + 1) * sizeof(name_t));
  if (!w) {
    ol_fault_set(OL_FAULT_NOMEM);
    return -1;
  }
  *v = w;
  w[*n].p = (char*)malloc(len + 1);
  if (!w[*n].p) {
    ol_fault_set(OL_FAULT_NOMEM);
    return -1;
  }
  memcpy(w[*n].p, p, len);
  w[*n].p[len] = 0;
  w[*n].n = len;
  return (*n)++;
}

int64_t host_id(ol_engine* e, const char* p, size_t n) {
  if (e->last_host >= 0 && e->hosts[e->last_host].n == n && memcmp(e->hosts[e->last_host].p, p, n) == 0)
    return e->last_host;
  for (int64_t i = 0; i < e->n_hosts; i++)
    if (e->hosts[i].n == n && memcmp(e->hosts[i].p, p, n) == 0) return e->last_host = i;
  return e->last_host = name_add(&e->hosts, &e->n_hosts, p, n);
}

int64_t ol_engine_dict_size(const ol_engine* e, int which) {
  return which == OL_DICT_FILE ? e->n_files : which == OL_DICT_HOST ? e->n_hosts : e->n_events;
}

const char* ol_engine_dict_item(const ol_engine* e, int which, int64_t i, size_t* len) {
  const name_t* v = which == OL_DICT_FILE ? e->files : which == OL_DICT_HOST ? e->hosts : e->events;
  *len = v[i].n;
  return v[i].p;
}

static uint64_t month_hash(const char* s, size_t n) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

int month_of(const ol_engine* e, const char* s, size_t n) {
  if (!e->cap_months) return 0;
  for (size_t i = (size_t)month_hash(s, n) & (e->cap_months - 1);; i = (i + 1) & (e->cap_months - 1)) {
    const month_t* m = &e->months[i];
    if (!m->p) return 0;
    if (m->n == n && memcmp(m->p, s, n) == 0) return m->month;
  }
}

int ol_engine_add_month(ol_engine* e, const char* name, size_t len, int month, ol_error* err) {
  if (month < 1 || month > 12 || !len) return err_set(err, OL_EINVAL, "month must be 1..12 with a name");
  if ((e->n_months + 1) * 2 > e->cap_months) { /* keep the table at most half full */
    size_t cap = e->cap_months ? e->cap_months * 2 : 1024;
    month_t* v = (month_t*)calloc(cap, sizeof(month_t));
    if (!v) return err_set(err, OL_ENOMEM, "out of memory");
    for (size_t i = 0; i < e->cap_months; i++) {
      month_t* m = &e->months[i];
      if (!m->p) continue;
      size_t j = (size_t)month_hash(m->p, m->n) & (cap - 1);
      while (v[j].p) j = (j + 1) & (cap - 1);
      v[j] = *m;
    }
    free(e->months);
    e->months = v;
    e->cap_months = cap;
  }
  size_t j = (size_t)month_hash(name, len) & (e->cap_months - 1);
  while (e->months[j].p) {
    if (e->months[j].n == len && memcmp(e->months[j].p, name, len) == 0) {
      e->months[j].month = month; /* a later line wins, as in the Python dict */
      return OL_OK;
    }
    j = (j + 1) & (e->cap_months - 1);
  }
  char* p = (char*)malloc(len);
  if (!p) return err_set(err, OL_ENOMEM, "out of memory");
  memcpy(p, name, len);
  e->months[j].p = p;
  e->months[j].n = len;
  e->months[j].month = month;
  e->n_months++;
  return OL_OK;
}
