/* Compiled twins of the hot loops in connectors/mail_headers.py (see there for the rules).
 *
 * read_fields(block) -> dict | None
 *     The fields a record reads, by canonical lower-case name, raw values in message
 *     order: what `_collect(_fast_fields(_READ_FIELD, block))` gives, or None when the
 *     block needs the line-by-line parser (a field line it cannot take).
 * configure(names)
 *     The canonical lower-case field names (mail_headers.READ_FIELDS), set once.
 *
 * Built by the project's install (hatch_build.py); connectors.mail_headers falls back to
 * the pure-Python path when the module is absent, and tests compare the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_NAMES 64
#define MAX_NAME_LEN 64

static PyObject *names[MAX_NAMES];           /* canonical names (str) */
static char lowered[MAX_NAMES][MAX_NAME_LEN]; /* the same, as C strings */
static Py_ssize_t lengths[MAX_NAMES];
static int name_count = 0;

static inline int is_name_char(unsigned char c) { return c >= 0x21 && c <= 0x7E && c != ':'; }

static int lookup(const unsigned char *name, Py_ssize_t len) {
    if (len >= MAX_NAME_LEN) return -1;
    for (int i = 0; i < name_count; i++) {
        if (lengths[i] != len) continue;
        Py_ssize_t k = 0;
        for (; k < len; k++) {
            unsigned char c = name[k];
            if (c >= 'A' && c <= 'Z') c += 32;
            if ((unsigned char)lowered[i][k] != c) break;
        }
        if (k == len) return i;
    }
    return -1;
}

/* Every CR is part of a CRLF. */
static int crlf_only(const unsigned char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n')) return 0;
    }
    return 1;
}

static PyObject *read_fields(PyObject *self, PyObject *arg) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "read_fields expects bytes");
        return NULL;
    }
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    if (n == 0 || s[0] == ' ' || s[0] == '\t') Py_RETURN_NONE;
    if (memchr(s, '\r', n) && !crlf_only(s, n)) Py_RETURN_NONE;
    PyObject *found = PyDict_New();
    if (!found) return NULL;
    Py_ssize_t pos = 0; /* start of a line */
    while (pos < n) {
        unsigned char first = s[pos];
        Py_ssize_t line_end = pos;
        while (line_end < n && s[line_end] != '\n') line_end++;
        if (first == ' ' || first == '\t') { /* continuation of a field not read */
            pos = line_end + 1;
            continue;
        }
        if (!is_name_char(first)) goto not_a_field;
        Py_ssize_t k = pos;
        while (k < line_end && is_name_char(s[k])) k++;
        if (k >= line_end || s[k] != ':') goto not_a_field;
        int index = lookup(s + pos, k - pos);
        if (index < 0) {
            pos = line_end + 1;
            continue;
        }
        Py_ssize_t v = k + 1;
        while (v < line_end && (s[v] == ' ' || s[v] == '\t')) v++;
        Py_ssize_t end = line_end;
        while (end + 1 < n && (s[end + 1] == ' ' || s[end + 1] == '\t')) {
            end++;
            while (end < n && s[end] != '\n') end++;
        }
        PyObject *value = PyBytes_FromStringAndSize((const char *)s + v, end - v);
        if (!value) goto error;
        PyObject *values = PyDict_GetItemWithError(found, names[index]);
        if (values) {
            int failed = PyList_Append(values, value);
            Py_DECREF(value);
            if (failed) goto error;
        } else {
            if (PyErr_Occurred()) {
                Py_DECREF(value);
                goto error;
            }
            values = PyList_New(1);
            if (!values) {
                Py_DECREF(value);
                goto error;
            }
            PyList_SET_ITEM(values, 0, value);
            int failed = PyDict_SetItem(found, names[index], values);
            Py_DECREF(values);
            if (failed) goto error;
        }
        pos = end + 1;
    }
    return found;
not_a_field:
    Py_DECREF(found);
    Py_RETURN_NONE;
error:
    Py_DECREF(found);
    return NULL;
}

static PyObject *configure(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "configure expects a sequence of names");
    if (!seq) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    if (count > MAX_NAMES) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "too many field names");
        return NULL;
    }
    for (int i = 0; i < name_count; i++) Py_CLEAR(names[i]);
    name_count = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *name = PySequence_Fast_GET_ITEM(seq, i);
        Py_ssize_t len;
        const char *text = PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &len) : NULL;
        if (!text || len >= MAX_NAME_LEN) {
            Py_DECREF(seq);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad field name");
            return NULL;
        }
        memcpy(lowered[i], text, len + 1);
        lengths[i] = len;
        Py_INCREF(name);
        names[i] = name;
        name_count = (int)i + 1;
    }
    Py_DECREF(seq);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"read_fields", read_fields, METH_O, "Raw values of the fields a record reads, by name."},
    {"configure", configure, METH_O, "Set the canonical lower-case field names."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mailscan", NULL, -1, methods};

PyMODINIT_FUNC PyInit__mailscan(void) { return PyModule_Create(&module); }
