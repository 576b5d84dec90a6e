/*
 * bbnb.results._speedups: the typed walk of result values, in C.
 *
 * ``extract(values, spec, nleaves, has_rows)`` walks a list of result values down a
 * plan that has only objects, typed leaves (integer, number, boolean, string) and at
 * most one row array of objects, and writes every leaf straight into arrow-layout
 * buffers: a validity bitmap plus int64 / float64 / bit-packed booleans, or int64
 * offsets and UTF-8 bytes for strings.  No Python object is made per value.
 *
 * It vouches only for input it fully understands.  Any value of another type than
 * the plan says (a bool where a number is due, a float in an integer leaf, an int
 * beyond int64, a tuple where a list is due, a dict subclass, a string that cannot be
 * UTF-8 encoded...) makes it return ``None``, and the caller walks the values in
 * Python, which reports such values one by one.  Errors it cannot attribute to the
 * input (out of memory) are raised.
 *
 * The spec is built by ``bbnb.results._typed`` from the plan:
 *   leaf:  (0, kind, leaf_index)            kind: 0 int, 1 float, 2 bool, 3 string,
 *                                           4 any (the values themselves, in a list)
 *   obj:   (1, ((name, child, flag_missing, flag_null), ...)[, self_leaf])
 * ``self_leaf``, a kind-4 leaf, also collects each object itself (None when absent).
 *   rows:  (2, items_spec, flag_null_element)
 * ``flag_*`` say which absences make a value not conform (the caller's validation
 * rules); flagged values are marked in the returned ``flagged`` bytes, by value.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { K_INT = 0, K_FLOAT = 1, K_BOOL = 2, K_STR = 3, K_ANY = 4 };
enum { N_LEAF = 0, N_OBJ = 1, N_ROWS = 2 };
enum { OK = 0, FALLBACK = 1, FAIL = -1 };

/* A growable byte buffer backed by a bytearray, handed to Python without a copy. */
typedef struct {
    PyObject *obj;
    Py_ssize_t len;
    Py_ssize_t cap;
} Buf;

static int buf_init(Buf *b, Py_ssize_t cap) {
    b->obj = PyByteArray_FromStringAndSize(NULL, cap);
    b->len = 0;
    b->cap = cap;
    return b->obj ? 0 : -1;
}

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    if (PyByteArray_Resize(b->obj, cap) < 0) return -1;
    b->cap = cap;
    return 0;
}

static inline char *buf_at(Buf *b, Py_ssize_t pos) { return PyByteArray_AS_STRING(b->obj) + pos; }

static int buf_put(Buf *b, const void *src, Py_ssize_t size) {
    if (buf_reserve(b, size) < 0) return -1;
    memcpy(buf_at(b, b->len), src, (size_t)size);
    b->len += size;
    return 0;
}

/* Append one bit (position ``count``) to a bitmap buffer. */
static int bit_put(Buf *b, Py_ssize_t count, int bit) {
    Py_ssize_t byte = count >> 3;
    if (byte >= b->len) {
        if (buf_reserve(b, 1) < 0) return -1;
        *buf_at(b, b->len) = 0;
        b->len += 1;
    }
    if (bit) *buf_at(b, byte) |= (char)(1u << (count & 7));
    return 0;
}

static PyObject *buf_finish(Buf *b) {
    if (PyByteArray_Resize(b->obj, b->len) < 0) return NULL;
    PyObject *out = b->obj;
    b->obj = NULL;
    return out;
}

typedef struct {
    int kind;
    int level; /* 0: one value per result; 1: one per row-array element */
    Py_ssize_t count;
    Py_ssize_t nulls;
    Buf valid;
    Buf data;
    Buf offsets; /* strings only */
    PyObject *objects; /* kind "any" only: a list of the values */
} Leaf;

typedef struct Node Node;
struct Node {
    int type;
    int kind;      /* leaf */
    Leaf *leaf;    /* leaf */
    Leaf *self;    /* obj: the leaf that collects the objects themselves, if any */
    Py_ssize_t nprops;
    PyObject **names; /* obj: borrowed from the spec, which outlives the walk */
    Node **children;
    char *flag_missing;
    char *flag_null;
    Node *items;   /* rows */
    char flag_null_element;
    char has_rows; /* the row array is this node or below it */
    /* obj: finding the properties in a dict (see ``obj_values``) */
    Py_hash_t *hashes;     /* each name's hash */
    PyObject **found;      /* scratch: each property's value in the dict at hand */
    uint64_t *stamp;       /* found[i] belongs to the dict at hand iff stamp[i] == gen */
    uint64_t gen;
    PyObject **slot_key;   /* the key object met at each entry position (owned) */
    Py_ssize_t *slot_prop; /* ... and which property it named (-1: none) */
};

/* Entry positions remembered per object node; larger dicts are looked up by name. */
#define SLOTS 64

typedef struct {
    Leaf *leaves;
    Py_ssize_t nleaves;
    Node *nodes;
    Py_ssize_t nnodes;
    Py_ssize_t used;
    char *flagged;     /* per value */
    Py_ssize_t owner;  /* index of the value being walked */
    Buf lengths;       /* int64 per value: row-array length */
    Buf empty;         /* byte per value: the row array is [] */
} State;

/* ---- the spec ----------------------------------------------------------------- */

static Py_ssize_t count_nodes(PyObject *spec) {
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) < 2) return -1;
    long type = PyLong_AsLong(PyTuple_GET_ITEM(spec, 0));
    if (type == N_LEAF) return 1;
    if (type == N_OBJ) {
        PyObject *props = PyTuple_GET_ITEM(spec, 1);
        if (!PyTuple_Check(props)) return -1;
        Py_ssize_t total = PyTuple_GET_SIZE(spec) > 2 ? 2 : 1;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(props); i++) {
            PyObject *prop = PyTuple_GET_ITEM(props, i);
            if (!PyTuple_Check(prop) || PyTuple_GET_SIZE(prop) != 4) return -1;
            Py_ssize_t sub = count_nodes(PyTuple_GET_ITEM(prop, 1));
            if (sub < 0) return -1;
            total += sub;
        }
        return total;
    }
    if (type == N_ROWS && PyTuple_GET_SIZE(spec) == 3) {
        Py_ssize_t sub = count_nodes(PyTuple_GET_ITEM(spec, 1));
        return sub < 0 ? -1 : 1 + sub;
    }
    return -1;
}

static Node *build(State *st, PyObject *spec, int level) {
    Node *node = &st->nodes[st->used++];
    memset(node, 0, sizeof(Node));
    node->type = (int)PyLong_AsLong(PyTuple_GET_ITEM(spec, 0));
    if (node->type == N_LEAF) {
        if (PyTuple_GET_SIZE(spec) != 3) goto bad;
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(spec, 1));
        Py_ssize_t index = PyLong_AsSsize_t(PyTuple_GET_ITEM(spec, 2));
        if (kind < K_INT || kind > K_ANY || index < 0 || index >= st->nleaves) goto bad;
        if (st->leaves[index].kind >= 0) goto bad; /* one leaf, one place */
        node->kind = (int)kind;
        node->leaf = &st->leaves[index];
        node->leaf->kind = (int)kind;
        node->leaf->level = level;
        return node;
    }
    if (node->type == N_OBJ) {
        PyObject *props = PyTuple_GET_ITEM(spec, 1);
        Py_ssize_t n = PyTuple_GET_SIZE(props);
        node->nprops = n;
        node->names = PyMem_Calloc((size_t)(n ? n : 1), sizeof(PyObject *));
        node->children = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Node *));
        node->flag_missing = PyMem_Calloc((size_t)(n ? n : 1), 1);
        node->flag_null = PyMem_Calloc((size_t)(n ? n : 1), 1);
        node->hashes = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Py_hash_t));
        node->found = PyMem_Calloc((size_t)(n ? n : 1), sizeof(PyObject *));
        node->stamp = PyMem_Calloc((size_t)(n ? n : 1), sizeof(uint64_t));
        node->slot_key = PyMem_Calloc(SLOTS, sizeof(PyObject *));
        node->slot_prop = PyMem_Calloc(SLOTS, sizeof(Py_ssize_t));
        if (!node->names || !node->children || !node->flag_missing || !node->flag_null ||
            !node->hashes || !node->found || !node->stamp || !node->slot_key || !node->slot_prop) {
            PyErr_NoMemory();
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *prop = PyTuple_GET_ITEM(props, i);
            PyObject *name = PyTuple_GET_ITEM(prop, 0);
            if (!PyUnicode_CheckExact(name)) goto bad;
            node->names[i] = name;
            node->hashes[i] = PyObject_Hash(name);
            if (node->hashes[i] == -1) return NULL;
            node->children[i] = build(st, PyTuple_GET_ITEM(prop, 1), level);
            if (!node->children[i]) return NULL;
            node->flag_missing[i] = (char)PyObject_IsTrue(PyTuple_GET_ITEM(prop, 2));
            node->flag_null[i] = (char)PyObject_IsTrue(PyTuple_GET_ITEM(prop, 3));
            node->has_rows |= node->children[i]->has_rows;
        }
        if (PyTuple_GET_SIZE(spec) > 2) {
            PyObject *self_spec = PyTuple_GET_ITEM(spec, 2);
            if (!PyTuple_Check(self_spec) || PyTuple_GET_SIZE(self_spec) < 2) goto bad;
            Node *self_node = build(st, self_spec, level);
            if (!self_node) return NULL;
            if (self_node->type != N_LEAF || self_node->kind != K_ANY) goto bad;
            node->self = self_node->leaf;
        }
        return node;
    }
    /* rows */
    if (level != 0) goto bad; /* one row array, not nested in another */
    node->items = build(st, PyTuple_GET_ITEM(spec, 1), 1);
    if (!node->items) return NULL;
    if (node->items->type != N_OBJ) goto bad;
    node->flag_null_element = (char)PyObject_IsTrue(PyTuple_GET_ITEM(spec, 2));
    node->has_rows = 1;
    return node;
bad:
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "malformed extract spec");
    return NULL;
}

static void free_nodes(State *st) {
    for (Py_ssize_t i = 0; i < st->used; i++) {
        Node *node = &st->nodes[i];
        PyMem_Free(node->names);
        PyMem_Free(node->children);
        PyMem_Free(node->flag_missing);
        PyMem_Free(node->flag_null);
        PyMem_Free(node->hashes);
        PyMem_Free(node->found);
        PyMem_Free(node->stamp);
        if (node->slot_key) {
            for (Py_ssize_t k = 0; k < SLOTS; k++) Py_XDECREF(node->slot_key[k]);
        }
        PyMem_Free(node->slot_key);
        PyMem_Free(node->slot_prop);
    }
    PyMem_Free(st->nodes);
}

/* ---- leaves ------------------------------------------------------------------- */

static int leaf_null(Leaf *leaf) {
    if (leaf->kind == K_ANY) {
        if (PyList_Append(leaf->objects, Py_None) < 0) return FAIL;
        leaf->count++;
        leaf->nulls++;
        return OK;
    }
    if (bit_put(&leaf->valid, leaf->count, 0) < 0) return FAIL;
    switch (leaf->kind) {
    case K_INT: {
        int64_t zero = 0;
        if (buf_put(&leaf->data, &zero, 8) < 0) return FAIL;
        break;
    }
    case K_FLOAT: {
        double zero = 0.0;
        if (buf_put(&leaf->data, &zero, 8) < 0) return FAIL;
        break;
    }
    case K_BOOL:
        if (bit_put(&leaf->data, leaf->count, 0) < 0) return FAIL;
        break;
    default: {
        int64_t end = (int64_t)leaf->data.len;
        if (buf_put(&leaf->offsets, &end, 8) < 0) return FAIL;
    }
    }
    leaf->count++;
    leaf->nulls++;
    return OK;
}

static int leaf_value(Leaf *leaf, PyObject *value) {
    if (leaf->kind == K_ANY) {
        if (PyList_Append(leaf->objects, value) < 0) return FAIL;
        leaf->count++;
        return OK;
    }
    switch (leaf->kind) {
    case K_INT: {
        if (!PyLong_CheckExact(value)) return FALLBACK;
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow) return FALLBACK;
        if (x == -1 && PyErr_Occurred()) return FAIL;
        int64_t v = (int64_t)x;
        if (buf_put(&leaf->data, &v, 8) < 0) return FAIL;
        break;
    }
    case K_FLOAT: {
        double v;
        if (PyFloat_CheckExact(value)) {
            v = PyFloat_AS_DOUBLE(value);
        } else if (PyLong_CheckExact(value)) {
            v = PyLong_AsDouble(value);
            if (v == -1.0 && PyErr_Occurred()) {
                if (!PyErr_ExceptionMatches(PyExc_OverflowError)) return FAIL;
                PyErr_Clear();
                return FALLBACK;
            }
        } else {
            return FALLBACK;
        }
        if (buf_put(&leaf->data, &v, 8) < 0) return FAIL;
        break;
    }
    case K_BOOL:
        if (value != Py_True && value != Py_False) return FALLBACK;
        if (bit_put(&leaf->data, leaf->count, value == Py_True) < 0) return FAIL;
        break;
    default: {
        if (!PyUnicode_CheckExact(value)) return FALLBACK;
        if (PyUnicode_IS_ASCII(value)) {
            if (buf_put(&leaf->data, PyUnicode_DATA(value), PyUnicode_GET_LENGTH(value)) < 0)
                return FAIL;
        } else {
            /* A temporary encoding, so the caller's strings do not keep a UTF-8 copy. */
            PyObject *utf8 = PyUnicode_AsUTF8String(value);
            if (!utf8) {
                if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return FAIL;
                PyErr_Clear();
                return FALLBACK; /* lone surrogates: Python reports the value */
            }
            int rc = buf_put(&leaf->data, PyBytes_AS_STRING(utf8), PyBytes_GET_SIZE(utf8));
            Py_DECREF(utf8);
            if (rc < 0) return FAIL;
        }
        int64_t end = (int64_t)leaf->data.len;
        if (buf_put(&leaf->offsets, &end, 8) < 0) return FAIL;
    }
    }
    if (bit_put(&leaf->valid, leaf->count, 1) < 0) return FAIL;
    leaf->count++;
    return OK;
}

/* ---- the walk ----------------------------------------------------------------- */

static int put_row(State *st, int64_t length, char empty) {
    if (buf_put(&st->lengths, &length, 8) < 0) return FAIL;
    if (buf_put(&st->empty, &empty, 1) < 0) return FAIL;
    return OK;
}

/* Which property an exact-str ``key`` names (-1: none), by hash then by content. */
static Py_ssize_t match_name(Node *node, PyObject *key) {
    Py_hash_t hash = PyObject_Hash(key); /* cached in the str object */
    Py_ssize_t len = PyUnicode_GET_LENGTH(key);
    int kind = PyUnicode_KIND(key);
    for (Py_ssize_t i = 0; i < node->nprops; i++) {
        PyObject *name = node->names[i];
        if (name == key) return i;
        if (node->hashes[i] != hash || PyUnicode_GET_LENGTH(name) != len ||
            PyUnicode_KIND(name) != kind)
            continue;
        if (memcmp(PyUnicode_DATA(name), PyUnicode_DATA(key), (size_t)len * (size_t)kind) == 0)
            return i;
    }
    return -1;
}

/*
 * Fill node->found[i] with a new reference to each property's value in ``dict`` (NULL:
 * the key is missing).
 *
 * Keys are matched by walking the dict's entries in order and remembering, per entry
 * position, the key object last met there and the property it named.  Dicts built by
 * the same code (or parsed from one JSON document, whose parser shares key objects)
 * repeat both, so most entries are recognised by one pointer comparison, without
 * reading the key object.  A remembered key is owned, so its address cannot be reused
 * by another string.  (Where keys do not repeat, the entries cost about what lookups
 * by name would.)  Dicts with more than SLOTS entries, or any key that is not exactly
 * a str, are looked up by name instead.  Either way no Python code runs while the
 * references are taken.
 */
static int obj_values(Node *node, PyObject *dict) {
    uint64_t gen = ++node->gen;
    if (PyDict_GET_SIZE(dict) <= SLOTS) {
        Py_ssize_t pos = 0, entry = 0;
        PyObject *key, *val;
        int plain = 1;
        while (PyDict_Next(dict, &pos, &key, &val)) {
            Py_ssize_t prop;
            if (node->slot_key[entry] == key) {
                prop = node->slot_prop[entry];
            } else {
                if (!PyUnicode_CheckExact(key)) {
                    plain = 0;
                    break;
                }
                prop = match_name(node, key);
                Py_INCREF(key);
                Py_XSETREF(node->slot_key[entry], key);
                node->slot_prop[entry] = prop;
            }
            entry++;
            if (prop >= 0) {
                node->found[prop] = val;
                node->stamp[prop] = gen;
            }
        }
        if (plain) {
            for (Py_ssize_t i = 0; i < node->nprops; i++) {
                if (node->stamp[i] == gen) {
                    Py_INCREF(node->found[i]);
                } else {
                    node->found[i] = NULL;
                }
            }
            return OK;
        }
        gen = ++node->gen; /* forget the partial pass */
    }
    for (Py_ssize_t i = 0; i < node->nprops; i++) {
        PyObject *child = PyDict_GetItemWithError(dict, node->names[i]);
        if (!child && PyErr_Occurred()) {
            for (Py_ssize_t j = 0; j < i; j++) Py_CLEAR(node->found[j]);
            return FAIL;
        }
        /* A key's __eq__ may run Python code here, so take the reference at once. */
        Py_XINCREF(child);
        node->found[i] = child;
    }
    return OK;
}

/* Walk ``value`` (NULL: absent or null) down ``node``. */
static int walk(State *st, Node *node, PyObject *value) {
    int rc;
    if (value == Py_None) value = NULL;
    if (node->type == N_LEAF) {
        return value ? leaf_value(node->leaf, value) : leaf_null(node->leaf);
    }
    if (node->type == N_OBJ) {
        if (!value) {
            if (node->self && leaf_null(node->self) != OK) return FAIL;
            for (Py_ssize_t i = 0; i < node->nprops; i++) {
                rc = walk(st, node->children[i], NULL);
                if (rc != OK) return rc;
            }
            return OK;
        }
        if (!PyDict_CheckExact(value)) return FALLBACK;
        if (node->self && leaf_value(node->self, value) != OK) return FAIL;
        if (obj_values(node, value) != OK) return FAIL;
        /* found[] is this node's own: the children's walks use their nodes' arrays. */
        rc = OK;
        for (Py_ssize_t i = 0; i < node->nprops; i++) {
            PyObject *child = node->found[i];
            node->found[i] = NULL;
            if (rc == OK) {
                if (!child) {
                    if (node->flag_missing[i]) st->flagged[st->owner] = 1;
                } else if (child == Py_None && node->flag_null[i]) {
                    st->flagged[st->owner] = 1;
                }
                rc = walk(st, node->children[i], child);
            }
            Py_XDECREF(child);
        }
        return rc;
    }
    /* the row array: one row per element */
    if (!value) return put_row(st, 0, 0);
    if (!PyList_CheckExact(value)) return FALLBACK;
    Py_INCREF(value);
    Py_ssize_t n = PyList_GET_SIZE(value);
    rc = put_row(st, (int64_t)n, (char)(n == 0));
    for (Py_ssize_t i = 0; rc == OK && i < n; i++) {
        if (PyList_GET_SIZE(value) != n) { /* changed under us: let Python decide */
            rc = FALLBACK;
            break;
        }
        PyObject *element = PyList_GET_ITEM(value, i);
        if (element == Py_None && node->flag_null_element) st->flagged[st->owner] = 1;
        Py_INCREF(element);
        rc = walk(st, node->items, element);
        Py_DECREF(element);
    }
    Py_DECREF(value);
    return rc;
}

/* How many row-array elements ``value`` holds (a sizing guess: types are not checked). */
static Py_ssize_t count_elements(Node *node, PyObject *value) {
    if (!value || !node->has_rows) return 0;
    if (node->type == N_ROWS) return PyList_CheckExact(value) ? PyList_GET_SIZE(value) : 0;
    if (!PyDict_CheckExact(value)) return 0;
    for (Py_ssize_t i = 0; i < node->nprops; i++) {
        if (!node->children[i]->has_rows) continue;
        PyObject *child = PyDict_GetItemWithError(value, node->names[i]);
        if (!child) {
            PyErr_Clear();
            return 0;
        }
        return count_elements(node->children[i], child);
    }
    return 0;
}

/* ---- the entry point ---------------------------------------------------------- */

static PyObject *leaf_result(Leaf *leaf) {
    if (leaf->kind == K_ANY) {
        PyObject *objects = leaf->objects;
        leaf->objects = NULL;
        return Py_BuildValue("(nnONO)", leaf->count, leaf->nulls, Py_None, objects, Py_None);
    }
    PyObject *valid = buf_finish(&leaf->valid);
    PyObject *data = valid ? buf_finish(&leaf->data) : NULL;
    PyObject *offsets = Py_None;
    Py_INCREF(Py_None);
    if (data && leaf->kind == K_STR) {
        Py_DECREF(Py_None);
        offsets = buf_finish(&leaf->offsets);
    }
    if (!valid || !data || !offsets) {
        Py_XDECREF(valid);
        Py_XDECREF(data);
        Py_XDECREF(offsets);
        return NULL;
    }
    return Py_BuildValue("(nnNNN)", leaf->count, leaf->nulls, valid, data, offsets);
}

static void free_state(State *st) {
    if (st->leaves) {
        for (Py_ssize_t i = 0; i < st->nleaves; i++) {
            Py_XDECREF(st->leaves[i].valid.obj);
            Py_XDECREF(st->leaves[i].data.obj);
            Py_XDECREF(st->leaves[i].offsets.obj);
            Py_XDECREF(st->leaves[i].objects);
        }
        PyMem_Free(st->leaves);
    }
    if (st->nodes) free_nodes(st);
    Py_XDECREF(st->lengths.obj);
    Py_XDECREF(st->empty.obj);
}

static PyObject *extract(PyObject *self, PyObject *args) {
    PyObject *values, *spec;
    Py_ssize_t nleaves;
    int root_flag_null;
    (void)self;
    if (!PyArg_ParseTuple(args, "O!Onp:extract", &PyList_Type, &values, &spec, &nleaves,
                          &root_flag_null))
        return NULL;
    if (nleaves < 0) {
        PyErr_SetString(PyExc_ValueError, "nleaves must be >= 0");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(values);
    State st;
    memset(&st, 0, sizeof(st));
    PyObject *flagged = PyByteArray_FromStringAndSize(NULL, n);
    PyObject *result = NULL;
    int rc = FAIL;
    if (!flagged) return NULL;
    memset(PyByteArray_AS_STRING(flagged), 0, (size_t)n);
    st.flagged = PyByteArray_AS_STRING(flagged);

    st.nnodes = count_nodes(spec);
    if (st.nnodes < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "malformed extract spec");
        goto done;
    }
    st.nodes = PyMem_Calloc((size_t)st.nnodes, sizeof(Node));
    st.nleaves = nleaves;
    st.leaves = PyMem_Calloc((size_t)(nleaves ? nleaves : 1), sizeof(Leaf));
    if (!st.nodes || !st.leaves) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nleaves; i++) st.leaves[i].kind = -1;
    Node *root = build(&st, spec, 0);
    if (!root) goto done;
    /* Row-level buffers are sized from the row arrays of the first values (counting
       them all would cost a pass over every result); buffers still grow if needed. */
    Py_ssize_t elements = 0;
    if (root->has_rows) {
        Py_ssize_t sample = n < 1024 ? n : 1024;
        for (Py_ssize_t i = 0; i < sample; i++)
            elements += count_elements(root, PyList_GET_ITEM(values, i));
        if (sample < n) elements = (Py_ssize_t)((double)elements / (double)sample * (double)n * 1.125);
    }
    for (Py_ssize_t i = 0; i < nleaves; i++) {
        Leaf *leaf = &st.leaves[i];
        Py_ssize_t guess = (leaf->level ? elements : n) + 1;
        if (leaf->kind < 0) {
            PyErr_SetString(PyExc_ValueError, "extract spec leaves a leaf index unused");
            goto done;
        }
        if (leaf->kind == K_ANY) {
            leaf->objects = PyList_New(0);
            if (!leaf->objects) goto done;
            continue;
        }
        if (buf_init(&leaf->valid, guess / 8 + 1) < 0) goto done;
        if (leaf->kind == K_STR) {
            int64_t zero = 0;
            if (buf_init(&leaf->data, guess * 8) < 0 || buf_init(&leaf->offsets, (guess + 1) * 8) < 0 ||
                buf_put(&leaf->offsets, &zero, 8) < 0)
                goto done;
        } else if (buf_init(&leaf->data, leaf->kind == K_BOOL ? guess / 8 + 1 : guess * 8) < 0) {
            goto done;
        }
    }
    if (buf_init(&st.lengths, (n + 1) * 8) < 0 || buf_init(&st.empty, n + 1) < 0) goto done;
    Py_INCREF(values);
    rc = OK;
    for (Py_ssize_t i = 0; i < n && rc == OK; i++) {
        if (PyList_GET_SIZE(values) != n) {
            rc = FALLBACK;
            break;
        }
        PyObject *value = PyList_GET_ITEM(values, i);
        st.owner = i;
        if (value == Py_None && root_flag_null) st.flagged[i] = 1;
        Py_INCREF(value);
        rc = walk(&st, root, value);
        Py_DECREF(value);
    }
    Py_DECREF(values);
    if (rc == FALLBACK) {
        result = Py_None;
        Py_INCREF(result);
        goto done;
    }
    if (rc == FAIL) goto done;

    PyObject *leaves = PyTuple_New(nleaves);
    if (!leaves) goto done;
    for (Py_ssize_t i = 0; i < nleaves; i++) {
        PyObject *item = leaf_result(&st.leaves[i]);
        if (!item) {
            Py_DECREF(leaves);
            goto done;
        }
        PyTuple_SET_ITEM(leaves, i, item);
    }
    PyObject *lengths = buf_finish(&st.lengths);
    PyObject *empty = lengths ? buf_finish(&st.empty) : NULL;
    if (!lengths || !empty) {
        Py_XDECREF(lengths);
        Py_DECREF(leaves);
        goto done;
    }
    result = Py_BuildValue("(NONN)", leaves, flagged, lengths, empty);

done:
    Py_DECREF(flagged);
    free_state(&st);
    return result;
}

static PyMethodDef methods[] = {
    {"extract", extract, METH_VARARGS,
     "extract(values, spec, nleaves, root_flag_null) -> (leaves, flagged, lengths, empty) "
     "or None\n\nThe typed walk of result values into arrow-layout buffers; None when a "
     "value is not of the type the spec says (walk those in Python)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "C speedups for bbnb.results (optional: the package works without them).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
