/* Compiled twins of the hot loops in connectors/mail_headers.py (see there for the rules).
 *
 * read_fields(block) -> dict | None
 *     The fields a record reads, by canonical lower-case name, raw values in message
 *     order: what `_collect(_fast_fields(_READ_FIELD, block))` gives, or None when the
 *     block needs the line-by-line parser (a field line it cannot take).
 * parse_date(text) -> (datetime | None, status) | None
 *     `mail_headers._fast_date`: a Date in the common RFC 5322 shape as aware UTC with
 *     "ok" / "naive" (zone -0000), or (None, "unparseable") for impossible values; None
 *     when the text has another shape (the caller then asks the stdlib). ASCII digits
 *     only: the caller decodes Date values as ASCII.
 * configure(names)
 *     The canonical lower-case field names (mail_headers.READ_FIELDS), set once.
 *
 * Built by the project's install (hatch_build.py); connectors.mail_headers falls back to
 * the pure-Python path when the module is absent, and tests compare the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
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


/* --- dates ------------------------------------------------------------------------ */

static const char *MONTHS[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *WEEKDAYS[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static PyObject *status_ok, *status_naive, *status_unparseable;

static inline int is_digit(char c) { return c >= '0' && c <= '9'; }
static int number(const char *s, int n) {
    int value = 0;
    for (int i = 0; i < n; i++) value = value * 10 + (s[i] - '0');
    return value;
}
static int is_leap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int month_days(long y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}
/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant). */
static long long days_from_civil(long long y, int m, int d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
static void civil_from_days(long long z, long long *y, int *m, int *d) {
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static PyObject *unparseable(void) { return Py_BuildValue("(OO)", Py_None, status_unparseable); }

static PyObject *parse_date(PyObject *self, PyObject *arg) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
    if (!s) return NULL;
    Py_ssize_t i = 0;
    if (n >= 5 && s[3] == ',' && s[4] == ' ') {
        for (int w = 0; w < 7; w++) {
            if (memcmp(s, WEEKDAYS[w], 3) == 0) {
                i = 5;
                break;
            }
        }
    }
    /* d{1,2} ' ' Mon ' ' YYYY ' ' HH:MM:SS ' ' [+-]HHMM ([ \t].*)? */
    int day_len = (i + 1 < n && is_digit(s[i]) && is_digit(s[i + 1])) ? 2 : 1;
    if (i + day_len + 24 > n || !is_digit(s[i])) Py_RETURN_NONE;
    const char *p = s + i;
    int day = number(p, day_len);
    p += day_len;
    if (p[0] != ' ' || p[4] != ' ' || p[9] != ' ' || p[12] != ':' || p[15] != ':' ||
        p[18] != ' ' || (p[19] != '+' && p[19] != '-'))
        Py_RETURN_NONE;
    int month = 0;
    for (int k = 0; k < 12; k++) {
        if (memcmp(p + 1, MONTHS[k], 3) == 0) month = k + 1;
    }
    static const int digits_at[] = {5, 6, 7, 8, 10, 11, 13, 14, 16, 17, 20, 21, 22, 23};
    for (size_t k = 0; k < sizeof digits_at / sizeof digits_at[0]; k++) {
        if (!is_digit(p[digits_at[k]])) Py_RETURN_NONE;
    }
    if (!month || p[5] == '0') Py_RETURN_NONE;
    Py_ssize_t rest = (p - s) + 24;
    if (rest < n && s[rest] != ' ' && s[rest] != '\t') Py_RETURN_NONE;
    long year = number(p + 5, 4);
    int hour = number(p + 10, 2), minute = number(p + 13, 2), second = number(p + 16, 2);
    int offset = number(p + 20, 2) * 3600 + number(p + 22, 2) * 60;
    int east = p[19] == '+';
    if (offset >= 86400) return unparseable();
    if (day < 1 || day > month_days(year, month) || hour > 23 || minute > 59 || second > 59)
        return unparseable();
    long long seconds = days_from_civil(year, month, day) * 86400LL + hour * 3600 + minute * 60 +
                        second - (east ? offset : -offset);
    long long days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
    long long of_day = seconds - days * 86400;
    long long y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) return unparseable();
    PyObject *moment = PyDateTimeAPI->DateTime_FromDateAndTime(
        (int)y, m, d, (int)(of_day / 3600), (int)(of_day / 60 % 60), (int)(of_day % 60), 0,
        PyDateTimeAPI->TimeZone_UTC, PyDateTimeAPI->DateTimeType);
    if (!moment) return NULL;
    PyObject *result = PyTuple_Pack(2, moment, !east && offset == 0 ? status_naive : status_ok);
    Py_DECREF(moment);
    return result;
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
    {"parse_date", parse_date, METH_O, "A Date in the common RFC 5322 shape, as aware UTC."},
    {"configure", configure, METH_O, "Set the canonical lower-case field names."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mailscan", NULL, -1, methods};

PyMODINIT_FUNC PyInit__mailscan(void) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    status_ok = PyUnicode_InternFromString("ok");
    status_naive = PyUnicode_InternFromString("naive");
    status_unparseable = PyUnicode_InternFromString("unparseable");
    if (!status_ok || !status_naive || !status_unparseable) return NULL;
    return PyModule_Create(&module);
}
