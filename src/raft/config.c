/* Configurations: value helpers, byte encoding, history along the log. */
#include "raft/config.h"

#include <stdlib.h>
#include <string.h>

#include "util/assert.h"

const tcn_raft_member *tcn_raft_config_find(const tcn_raft_config *c, uint64_t id)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (c->members[i].id == id)
            return &c->members[i];
    return NULL;
}

bool tcn_raft_config_is_voter(const tcn_raft_config *c, uint64_t id)
{
    const tcn_raft_member *m = tcn_raft_config_find(c, id);
    return m != NULL && m->role == TCN_RAFT_VOTER;
}

uint32_t tcn_raft_config_voters(const tcn_raft_config *c)
{
    uint32_t v = 0;
    for (uint32_t i = 0; i < c->n; i++)
        v += c->members[i].role == TCN_RAFT_VOTER;
    return v;
}

bool tcn_raft_config_valid(const tcn_raft_config *c)
{
    if (c->n > TCN_RAFT_MEMBERS_MAX)
        return false;
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->members[i].id == 0)
            return false;
        if (i > 0 && c->members[i].id <= c->members[i - 1].id)
            return false;
        if (c->members[i].role != TCN_RAFT_VOTER && c->members[i].role != TCN_RAFT_LEARNER)
            return false;
    }
    return true;
}

bool tcn_raft_config_equal(const tcn_raft_config *a, const tcn_raft_config *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->members[i].id != b->members[i].id || a->members[i].role != b->members[i].role)
            return false;
    return true;
}

int tcn_raft_config_set(tcn_raft_config *c, uint64_t id, uint8_t role)
{
    TCN_ASSERT(id != 0 && (role == TCN_RAFT_VOTER || role == TCN_RAFT_LEARNER));
    uint32_t i = 0;
    while (i < c->n && c->members[i].id < id)
        i++;
    if (i < c->n && c->members[i].id == id) {
        c->members[i].role = role;
        return TCN_OK;
    }
    if (c->n >= TCN_RAFT_MEMBERS_MAX)
        return TCN_ERR_TOO_LARGE;
    memmove(&c->members[i + 1], &c->members[i], (c->n - i) * sizeof(c->members[0]));
    c->members[i].id = id;
    c->members[i].role = role;
    c->n++;
    return TCN_OK;
}

void tcn_raft_config_remove(tcn_raft_config *c, uint64_t id)
{
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->members[i].id == id) {
            memmove(&c->members[i], &c->members[i + 1], (c->n - i - 1) * sizeof(c->members[0]));
            c->n--;
            return;
        }
    }
}

size_t tcn_raft_config_write(const tcn_raft_config *c, uint8_t *out)
{
    TCN_ASSERT(tcn_raft_config_valid(c));
    size_t o = 0;
    out[o++] = (uint8_t)c->n;
    for (uint32_t i = 0; i < c->n; i++) {
        for (int k = 0; k < 8; k++)
            out[o++] = (uint8_t)(c->members[i].id >> (56 - 8 * k));
        out[o++] = c->members[i].role;
    }
    return o;
}

int tcn_raft_config_put(tcn_buf *b, const tcn_raft_config *c)
{
    uint8_t tmp[TCN_RAFT_CONFIG_BYTES_MAX];
    return tcn_buf_append(b, tmp, tcn_raft_config_write(c, tmp));
}

int tcn_raft_config_get(tcn_cursor *cur, tcn_raft_config *out, tcn_error *err)
{
    tcn_cursor save = *cur;
    uint8_t n;
    if (tcn_cur_u8(cur, &n) != TCN_OK)
        return tcn_err_set(err, TCN_ERR_TRUNCATED, "config.n: input ends early");
    if (n > TCN_RAFT_MEMBERS_MAX) {
        *cur = save;
        return tcn_err_set(err, TCN_ERR_MALFORMED, "config.n: %u members exceed %u", n, TCN_RAFT_MEMBERS_MAX);
    }
    memset(out, 0, sizeof(*out));
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id;
        uint8_t role;
        if (tcn_cur_u64be(cur, &id) != TCN_OK || tcn_cur_u8(cur, &role) != TCN_OK) {
            *cur = save;
            return tcn_err_set(err, TCN_ERR_TRUNCATED, "config.members[%u]: input ends early", i);
        }
        if (id == 0 || (i > 0 && id <= out->members[i - 1].id)) {
            *cur = save;
            return tcn_err_set(err, TCN_ERR_MALFORMED, "config.members[%u].id: zero or not ascending", i);
        }
        if (role != TCN_RAFT_VOTER && role != TCN_RAFT_LEARNER) {
            *cur = save;
            return tcn_err_set(err, TCN_ERR_MALFORMED, "config.members[%u].role: unknown role %u", i, role);
        }
        out->members[i].id = id;
        out->members[i].role = role;
    }
    out->n = n;
    return TCN_OK;
}

int tcn_raft_config_parse(const uint8_t *p, size_t len, tcn_raft_config *out, tcn_error *err)
{
    tcn_cursor cur;
    tcn_cur_init(&cur, p, len);
    TCN_GUARD(tcn_raft_config_get(&cur, out, err));
    if (tcn_cur_remaining(&cur) != 0)
        return tcn_err_set(err, TCN_ERR_MALFORMED, "config: %zu trailing bytes", tcn_cur_remaining(&cur));
    if (tcn_raft_config_voters(out) == 0)
        return tcn_err_set(err, TCN_ERR_MALFORMED, "config: no voter");
    return TCN_OK;
}

/* --- History ------------------------------------------------------------- */

void tcn_raft_confs_free(tcn_raft_confs *cs)
{
    free(cs->hist);
    memset(cs, 0, sizeof(*cs));
}

const tcn_raft_conf_rec *tcn_raft_confs_current(const tcn_raft_confs *cs)
{
    return cs->n ? &cs->hist[cs->n - 1] : &cs->base;
}

const tcn_raft_conf_rec *tcn_raft_confs_at(const tcn_raft_confs *cs, uint64_t index)
{
    for (size_t i = cs->n; i > 0; i--)
        if (cs->hist[i - 1].index <= index)
            return &cs->hist[i - 1];
    return &cs->base;
}

int tcn_raft_confs_reserve(tcn_raft_confs *cs, size_t n)
{
    if (cs->n + n <= cs->cap)
        return TCN_OK;
    size_t cap = cs->cap ? cs->cap : 4;
    while (cap < cs->n + n)
        cap *= 2;
    tcn_raft_conf_rec *h = realloc(cs->hist, cap * sizeof(*h));
    if (h == NULL)
        return TCN_ERR_NOMEM;
    cs->hist = h;
    cs->cap = cap;
    return TCN_OK;
}

void tcn_raft_confs_push(tcn_raft_confs *cs, uint64_t index, const tcn_raft_config *c)
{
    TCN_ASSERT(cs->n < cs->cap);
    TCN_ASSERT(index > tcn_raft_confs_current(cs)->index);
    cs->hist[cs->n].index = index;
    cs->hist[cs->n].conf = *c;
    cs->n++;
}

bool tcn_raft_confs_truncate_after(tcn_raft_confs *cs, uint64_t index)
{
    bool changed = false;
    while (cs->n > 0 && cs->hist[cs->n - 1].index > index) {
        cs->n--;
        changed = true;
    }
    return changed;
}

void tcn_raft_confs_compact(tcn_raft_confs *cs, uint64_t index)
{
    size_t k = 0;
    while (k < cs->n && cs->hist[k].index <= index)
        k++;
    if (k == 0)
        return;
    cs->base = cs->hist[k - 1];
    memmove(cs->hist, cs->hist + k, (cs->n - k) * sizeof(cs->hist[0]));
    cs->n -= k;
}

void tcn_raft_confs_reset(tcn_raft_confs *cs, uint64_t index, const tcn_raft_config *c)
{
    cs->n = 0;
    cs->base.index = index;
    cs->base.conf = *c;
}
