/* Compiled twins of the hot loops in connectors/mailboxes/headers.py (see there for the rules).
 *
 * parse_date(text) -> (datetime | None, status) | None
 *     `mail_headers._fast_date`: a Date in the common RFC 5322 shape as aware UTC with
 *     "ok" / "naive" (zone -0000), or (None, "unparseable") for impossible values; None
 *     when the text has another shape (the caller then asks the stdlib). ASCII digits
 *     only: the caller decodes Date values as ASCII.
 * record(block, mailbox, source, source_ref) -> tuple | None
 *     `mail_headers._record` over the block's fields: the record's values in
 *     RECORD_FIELDS order up to `problems`, then the raw Content-Type and
 *     Content-Transfer-Encoding and whether the message is a reply (for the closing
 *     verdict, which stays in Python); a 2-tuple (field, reason) for a rejected
 *     message; None when the block or a value needs the Python path. Values in their
 *     common forms are read here; the rest go to the Python helpers given to
 *     `configure_record`, which are cached by raw value.
 * header_text(raw) -> str | None
 *     `mail_headers.header_text` for a raw value (bytes): plain ASCII, UTF-8 text, and
 *     RFC 2047 words in the charsets given to `configure_charsets`; None where the
 *     Python helper decides (unknown charsets, odd base64, undecodable bytes, ...).
 *     `record` reads text fields this way.
 * quick_verdict(content_type, transfer_encoding, prefix, whole) -> (verdict, rule) | None
 *     `closing.closing_verdict` where the opening lines of a plain UTF-8 text settle it
 *     (a question, no own words, or too many for a closer) without the Python rules; None
 *     for every other body. Raw header values (bytes) or None.
 * scan(buffer, at, stop, base, path, mailbox) -> (items, at)
 *     `mbox._scan`'s loop over the messages of a read buffer that end at a following
 *     From line: a MessageRecord each, built here (an undated one then dated by
 *     `mbox._date_from_envelope`), or what `mbox._item` gives for the rest (rejected, a
 *     header block it cannot take).
 * pack(items, python_pack) -> list, unpack(values) -> list
 *     `mbox._pack` over a list of items (records read here, others by `python_pack`),
 *     and back: the packed records of a list as MessageRecords (other tuples as they are).
 * configure(names)
 *     The canonical lower-case field names (mail_headers.READ_FIELDS), set once.
 * configure_charsets(names)
 *     The lower-case charsets header_text decodes itself, set once.
 * configure_closing(letters)
 *     The letters closing's thanks and acknowledgements are written in, set once (until
 *     then quick_verdict leaves "other words" to Python).
 * configure_record(helpers), configure_scan(helpers)
 *     The Python helpers `record` and `scan` call, set once.
 *
 * Built by the project's install (hatch_build.py); connectors.mailboxes.headers falls back to
 * the pure-Python path when the module is absent, and tests compare the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_NAMES 64
#define MAX_NAME_LEN 64

static PyObject *names[MAX_NAMES];           /* canonical names (str) */
static char lowered[MAX_NAMES][MAX_NAME_LEN]; /* the same, as C strings */
static int name_count = 0;

static inline int is_name_char(unsigned char c) { return c >= 0x21 && c <= 0x7E && c != ':'; }

/* The names by length and first character (a chain through next_name; -1 ends it). */
static signed char first_name[MAX_NAME_LEN][128], next_name[MAX_NAMES];

static int lookup(const unsigned char *name, Py_ssize_t len) {
    if (len >= MAX_NAME_LEN) return -1;
    unsigned char first = name[0] >= 'A' && name[0] <= 'Z' ? name[0] + 32 : name[0];
    if (first >= 128) return -1;
    for (int i = first_name[len][first]; i >= 0; i = next_name[i]) {
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

/* Where each field's values sit in a header block (bytes [start, end) of the block). */
#define MAX_VALUES 8
typedef struct {
    Py_ssize_t start, end;
} Span;
typedef struct {
    int count[MAX_NAMES];
    Span spans[MAX_NAMES][MAX_VALUES]; /* the first MAX_VALUES values of each field */
} Fields;

/* Find the fields a record reads (values in message order), as `_fast_fields` does;
 * 0 when the block needs the line-by-line parser (a field line it cannot take). */
static int scan_fields(const unsigned char *s, Py_ssize_t n, Fields *f) {
    memset(f->count, 0, sizeof f->count);
    if (n == 0 || s[0] == ' ' || s[0] == '\t') return 0;
    if (memchr(s, '\r', n) && !crlf_only(s, n)) return 0;
    Py_ssize_t pos = 0; /* start of a line */
    while (pos < n) {
        unsigned char first = s[pos];
        const unsigned char *lf = memchr(s + pos, '\n', n - pos);
        Py_ssize_t line_end = lf ? lf - s : n;
        if (first == ' ' || first == '\t') { /* continuation of a field not read */
            pos = line_end + 1;
            continue;
        }
        if (!is_name_char(first)) return 0;
        Py_ssize_t k = pos;
        while (k < line_end && is_name_char(s[k])) k++;
        if (k >= line_end || s[k] != ':') return 0;
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
            const unsigned char *lf = memchr(s + end, '\n', n - end);
            end = lf ? lf - s : n;
        }
        if (f->count[index] < MAX_VALUES) {
            f->spans[index][f->count[index]].start = v;
            f->spans[index][f->count[index]].end = end;
        }
        f->count[index]++;
        pos = end + 1;
    }
    return 1;
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
    memset(first_name, -1, sizeof first_name);
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
        Py_INCREF(name);
        names[i] = name;
        name_count = (int)i + 1;
        unsigned char first = (unsigned char)lowered[i][0];
        next_name[i] = first < 128 ? first_name[len][first] : -1;
        if (first < 128) first_name[len][first] = (signed char)i;
    }
    Py_DECREF(seq);
    Py_RETURN_NONE;
}

/* --- records ---------------------------------------------------------------------- */

enum { F_FROM, F_TO, F_CC, F_REPLY_TO, F_SUBJECT, F_DATE, F_MESSAGE_ID, F_IN_REPLY_TO,
       F_REFERENCES, F_AUTO_SUBMITTED, F_PRECEDENCE, F_LIST_ID, F_X_AUTOREPLY,
       F_X_AUTORESPOND, F_RETURN_PATH, F_CONTENT_TYPE, F_X_GMAIL_LABELS, F_X_GM_THRID,
       F_CTE, F_COUNT };
static const char *FIELD_NAMES[F_COUNT] = {
    "from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to",
    "references", "auto-submitted", "precedence", "list-id", "x-autoreply", "x-autorespond",
    "return-path", "content-type", "x-gmail-labels", "x-gm-thrid",
    "content-transfer-encoding"};
static int field_index[F_COUNT]; /* position of each in the configured names, or -1 */

/* The Python helpers, in this order (see mail_headers.configure_record's call). */
enum { H_SENDER, H_TEXT, H_LABELS, H_DELIVERY_REPORT, H_MESSAGE_IDS, H_ADDRESS_LIST,
       H_PARSE_DATE, H_FALLBACK_KEY, H_COUNT };
static PyObject *helpers[H_COUNT];
static PyObject *problem_date_missing, *problem_missing_id, *problem_duplicate_id;
static PyObject *status_missing, *reject_from, *reason_no_from, *reason_no_address;

#define FALLBACK ((PyObject *)1) /* a value needs the whole Python path */

/* Python's str.isspace() for an ASCII character. */
static inline int py_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}
static unsigned char atext[256]; /* filled at import: mail_headers._ATEXT */
static inline int is_atext(unsigned char c) { return atext[c]; }

/* A buffer for an unfolded value. */
typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Text;

static void text_free(Text *t) { PyMem_Free(t->data); }

/* Append the value at `sp` without CR and LF; 0 when it holds a non-ASCII byte. */
static int unfold_ascii(const unsigned char *s, Span sp, Text *t) {
    Py_ssize_t need = t->len + (sp.end - sp.start) + 1;
    if (need > t->cap) {
        char *grown = PyMem_Realloc(t->data, need * 2);
        if (!grown) return -1;
        t->data = grown;
        t->cap = need * 2;
    }
    const unsigned char *p = s + sp.start, *end = s + sp.end;
    char *out = t->data + t->len;
    uint64_t seen = 0; /* any byte with the high bit set: not ASCII */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) { /* eight bytes at a time; one by one where a CR or LF is */
        uint64_t w, lf, cr;
        memcpy(&w, p, 8);
        lf = w ^ (ones * '\n');
        cr = w ^ (ones * '\r');
        seen |= w;
        if ((((lf - ones) & ~lf) | ((cr - ones) & ~cr)) & highs) {
            for (int k = 0; k < 8; k++) {
                *out = (char)p[k];
                out += p[k] != '\r' && p[k] != '\n';
            }
        } else {
            memcpy(out, &w, 8);
            out += 8;
        }
        p += 8;
    }
    for (; p < end; p++) {
        unsigned char c = *p;
        seen |= c;
        *out = (char)c;
        out += c != '\r' && c != '\n';
    }
    t->len = out - t->data;
    return !(seen & highs);
}

static int text_append(Text *t, const char *data, Py_ssize_t len) {
    Span all = {0, len};
    return unfold_ascii((const unsigned char *)data, all, t);
}

static PyObject *raw_value(const char *s, Span sp) {
    return PyBytes_FromStringAndSize(s + sp.start, sp.end - sp.start);
}

static int starts_with_ci(const unsigned char *s, Py_ssize_t n, const char *word);
static Py_ssize_t find_bytes(const unsigned char *s, Py_ssize_t n, Py_ssize_t from,
                             const unsigned char *needle, Py_ssize_t len);

static PyObject *call1(int helper, PyObject *arg) {
    if (!arg) return NULL;
    PyObject *result = PyObject_CallOneArg(helpers[helper], arg);
    Py_DECREF(arg);
    return result;
}

/* --- RFC 2047 encoded words ------------------------------------------------------- */

/* Charsets decoded here: lower-case names that are their own codec (configure_charsets;
 * mail_headers keeps out those its alias tables rename). Others go to Python. */
#define MAX_CHARSETS 32
#define MAX_WORDS 32
static char charsets[MAX_CHARSETS][32];
static int charset_count = 0;
static signed char base64_value[256]; /* -1: not in the alphabet; filled at import */
static PyObject *strip_name, *space_text, *empty_text, *comma_text;

static int charset_index(const char *name, Py_ssize_t len) {
    for (int i = 0; i < charset_count; i++) {
        if ((Py_ssize_t)strlen(charsets[i]) == len &&
            starts_with_ci((const unsigned char *)name, len, charsets[i]))
            return i;
    }
    return -1;
}

static int text_reserve(Text *t, Py_ssize_t extra) {
    Py_ssize_t need = t->len + extra + 1;
    if (need <= t->cap) return 1;
    char *grown = PyMem_Realloc(t->data, need * 2);
    if (!grown) return 0;
    t->data = grown;
    t->cap = need * 2;
    return 1;
}

static inline int hex_value(char c) {
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* `_decode_payload`: the payload's bytes appended to `out`; 0 for a base64 payload
 * Python would pad, refuse or read leniently (then it decides), -1 out of memory. */
static int decode_payload(const char *p, Py_ssize_t n, char encoding, Text *out) {
    if (!text_reserve(out, n)) return -1;
    unsigned char *o = (unsigned char *)out->data + out->len;
    if (encoding == 'q') { /* "_" is a space, "=XX" a byte, any other "=" itself */
        for (Py_ssize_t i = 0; i < n; i++) {
            if (p[i] == '=' && i + 2 < n && hex_value(p[i + 1]) >= 0 &&
                hex_value(p[i + 2]) >= 0) {
                *o++ = (unsigned char)(hex_value(p[i + 1]) * 16 + hex_value(p[i + 2]));
                i += 2;
            } else {
                *o++ = p[i] == '_' ? ' ' : (unsigned char)p[i];
            }
        }
    } else { /* the alphabet, then only the padding a complete last group needs */
        Py_ssize_t length = n;
        while (length > 0 && p[length - 1] == '=') length--;
        Py_ssize_t padding = n - length, rest = length % 4;
        if (rest == 1 || (rest == 0 && padding) || (rest == 2 && padding > 2) ||
            (rest == 3 && padding > 1))
            return 0;
        unsigned int bits = 0;
        int held = 0;
        for (Py_ssize_t i = 0; i < length; i++) {
            int v = base64_value[(unsigned char)p[i]];
            if (v < 0) return 0;
            bits = (bits << 6) | (unsigned int)v;
            held += 6;
            if (held >= 8) {
                held -= 8;
                *o++ = (unsigned char)(bits >> held);
                bits &= (1u << held) - 1;
            }
        }
    }
    out->len = (char *)o - out->data;
    return 1;
}

typedef struct {
    Py_ssize_t a, b; /* the text, or an encoded word's payload */
    char encoding;   /* 0 for plain text, else 'q' or 'b' */
    int charset;     /* index in charsets, -1 for plain text */
} Word;

static inline int nonctext(Py_UCS4 c) {
    return Py_UNICODE_ISSPACE(c) || c == '(' || c == ')' || c == '\\';
}

/* `decode_encoded_words(t).strip()` for ASCII text holding encoded words (no line
 * breaks); FALLBACK when Python must decide (control characters, an unknown charset,
 * odd base64, bytes the charset cannot decode, too many words). */
static PyObject *decode_words(const char *t, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = t[i];
        if ((c < 0x20 && c != '\t') || c >= 0x7f) return FALLBACK; /* lines, printable */
    }
    Word words[MAX_WORDS];
    int count = 0, encoded = 0;
    Py_ssize_t pos = 0; /* `_words`: _ENCODED_WORD.split of the line */
    for (;;) {
        Py_ssize_t start = -1, j = 0, e = 0;
        for (Py_ssize_t k = pos; k + 1 < n && start < 0; k++) {
            if (t[k] != '=' || t[k + 1] != '?') continue;
            for (j = k + 2; j < n && t[j] != '?'; j++) {
            }
            if (j + 2 >= n || !strchr("qQbB", t[j + 1]) || t[j + 2] != '?') continue;
            for (e = j + 3; e + 1 < n && !(t[e] == '?' && t[e + 1] == '='); e++) {
            }
            if (e + 1 < n) start = k;
        }
        Py_ssize_t a = pos, b = start < 0 ? n : start;
        if (!encoded)
            while (a < b && (t[a] == ' ' || t[a] == '\t')) a++; /* parts[0].lstrip() */
        if (a < b) {
            if (count == MAX_WORDS) return FALLBACK;
            words[count++] = (Word){a, b, 0, -1};
        }
        if (start < 0) break;
        int charset = charset_index(t + start + 2, j - start - 2);
        if (charset < 0 || count == MAX_WORDS) return FALLBACK;
        char encoding = t[j + 1] == 'q' || t[j + 1] == 'Q' ? 'q' : 'b';
        words[count++] = (Word){j + 3, e, encoding, charset};
        encoded++;
        pos = e + 2;
    }
    if (!encoded) { /* no encoded word after all: the text, stripped */
        Py_ssize_t a = 0, b = n;
        while (a < b && py_space(t[a])) a++;
        while (b > a && py_space(t[b - 1])) b--;
        return PyUnicode_FromStringAndSize(t + a, b - a);
    }
    /* Runs of one charset: encoded bytes joined as they are, plain text with a space;
     * whitespace between two encoded words is not text (`_words`, `_charset_runs`). */
    PyObject *chunks = PyList_New(0), *result = NULL;
    char kinds[MAX_WORDS]; /* per chunk: encoded or not */
    int chunk_count = 0;
    Text run = {0};
    int run_charset = -2; /* -2: no run yet */
    if (!chunks) return NULL;
    for (int w = 0; w <= count; w++) {
        const Word *word = w < count ? &words[w] : NULL;
        if (word && w > 0 && w < count - 1 && words[w - 1].encoding && words[w + 1].encoding) {
            Py_ssize_t k = word->a;
            while (k < word->b && py_space(t[k])) k++;
            if (word->b > word->a && k == word->b) continue;
        }
        if (run_charset != -2 && (!word || word->charset != run_charset)) {
            PyObject *text = run_charset < 0
                                 ? PyUnicode_DecodeASCII(run.data, run.len, NULL)
                                 : PyUnicode_Decode(run.data, run.len, charsets[run_charset], NULL);
            if (!text) {
                PyErr_Clear(); /* bytes the charset cannot hold: Python's lenient decoding */
                result = FALLBACK;
                goto done;
            }
            int failed = PyList_Append(chunks, text);
            Py_DECREF(text);
            if (failed) goto done;
            kinds[chunk_count++] = run_charset >= 0;
            run.len = 0;
            run_charset = -2;
        }
        if (!word) break;
        if (run_charset == -1 && !word->encoding) {
            if (!text_reserve(&run, 1)) goto memory;
            run.data[run.len++] = ' ';
        }
        run_charset = word->charset;
        if (word->encoding) {
            int decoded = decode_payload(t + word->a, word->b - word->a, word->encoding, &run);
            if (decoded < 0) goto memory;
            if (!decoded) {
                result = FALLBACK;
                goto done;
            }
        } else {
            if (!text_reserve(&run, word->b - word->a)) goto memory;
            memcpy(run.data + run.len, t + word->a, word->b - word->a);
            run.len += word->b - word->a;
        }
    }
    /* `_join_chunks`: a space where encoded text meets plain text without one */
    PyObject *joined = PyList_New(0);
    int last_encoded = 0, last_space = 0;
    for (int c = 0; joined && c < chunk_count; c++) {
        PyObject *text = PyList_GET_ITEM(chunks, c);
        Py_ssize_t len = PyUnicode_GET_LENGTH(text);
        int next_encoded = kinds[c], space = 0;
        if (c) {
            int has_space = len && nonctext(PyUnicode_READ_CHAR(text, 0));
            if (last_encoded) {
                if (!next_encoded && !has_space) {
                    space = 1;
                    next_encoded = 0;
                }
            } else if (next_encoded && !last_space) {
                space = 1;
            }
        }
        last_space = len && nonctext(PyUnicode_READ_CHAR(text, len - 1));
        last_encoded = next_encoded;
        if ((space && PyList_Append(joined, space_text)) || PyList_Append(joined, text))
            Py_CLEAR(joined);
    }
    if (joined) {
        PyObject *whole = PyUnicode_Join(empty_text, joined);
        result = whole ? PyObject_CallMethodNoArgs(whole, strip_name) : NULL;
        Py_XDECREF(whole);
        Py_DECREF(joined);
    }
    goto done;
memory:
    PyErr_NoMemory();
done:
    text_free(&run);
    Py_DECREF(chunks);
    return result;
}

/* A text field's value as `mail_headers.header_text` gives it, or FALLBACK when Python
 * must decide (see decode_words). */
static PyObject *compiled_text(const char *s, Span sp) {
    Text t = {0};
    int plain = unfold_ascii((const unsigned char *)s, sp, &t);
    if (plain < 0) return PyErr_NoMemory();
    const char *d = t.data ? t.data : "";
    PyObject *result = NULL;
    if (!plain) { /* 8-bit bytes: UTF-8 text as written (RFC 6532), no encoded words */
        PyObject *text = PyUnicode_DecodeUTF8(d, t.len, "replace");
        result = text ? PyObject_CallMethodNoArgs(text, strip_name) : NULL;
        Py_XDECREF(text);
    } else if (memchr(d, '=', t.len) && find_bytes((const unsigned char *)d, t.len, 0,
                                                   (const unsigned char *)"=?", 2) >= 0) {
        result = decode_words(d, t.len);
    } else {
        Py_ssize_t a = 0, b = t.len;
        while (a < b && py_space(d[a])) a++;
        while (b > a && py_space(d[b - 1])) b--;
        result = PyUnicode_FromStringAndSize(d + a, b - a);
    }
    text_free(&t);
    return result;
}

/* A text field's value (`mail_headers.header_text`), or None when empty; `_text` for
 * the values compiled_text leaves to Python. */
static PyObject *text_value(const char *s, Span sp, int none_if_empty) {
    PyObject *result = compiled_text(s, sp);
    if (result == FALLBACK) result = call1(H_TEXT, raw_value(s, sp));
    if (result && none_if_empty && PyUnicode_GET_LENGTH(result) == 0) {
        Py_DECREF(result);
        Py_RETURN_NONE;
    }
    return result;
}

static Py_ssize_t skip_blanks(const char *t, Py_ssize_t i, Py_ssize_t n) {
    while (i < n && (t[i] == ' ' || t[i] == '\t')) i++;
    return i;
}
/* End of an addr-spec (atext+ '@' atext+) at i, or -1. */
static Py_ssize_t addr_spec(const char *t, Py_ssize_t i, Py_ssize_t n) {
    Py_ssize_t k = i;
    while (k < n && is_atext(t[k])) k++;
    if (k == i || k >= n || t[k] != '@') return -1;
    Py_ssize_t m = ++k;
    while (m < n && is_atext(t[m])) m++;
    return m == k ? -1 : m;
}
/* '<' blanks addr-spec blanks '>' at i: the address's bounds, and the end; -1 if not. */
static Py_ssize_t angle_addr(const char *t, Py_ssize_t i, Py_ssize_t n, Py_ssize_t *a,
                             Py_ssize_t *b) {
    if (i >= n || t[i] != '<') return -1;
    *a = skip_blanks(t, i + 1, n);
    *b = addr_spec(t, *a, n);
    if (*b < 0) return -1;
    Py_ssize_t k = skip_blanks(t, *b, n);
    return k < n && t[k] == '>' ? k + 1 : -1;
}

/* The lower-cased addresses of an ASCII address list, as `_bare_addresses` reads them
 * (the forms of `_ADDRESS_ITEMS`); FALLBACK for any other form. */
static PyObject *bare_addresses(const char *t, Py_ssize_t n) {
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    Py_ssize_t pos = 0;
    while (pos < n) {
        Py_ssize_t p = skip_blanks(t, pos, n), a = -1, b = -1, end;
        end = addr_spec(t, p, n);
        if (end >= 0) {
            a = p;
            b = end;
        } else if (p < n && t[p] == '"') {
            Py_ssize_t q = p + 1;
            while (q < n && t[q] != '"' && t[q] != '\\') q++;
            end = q < n && t[q] == '"' ? angle_addr(t, skip_blanks(t, q + 1, n), n, &a, &b) : -1;
        } else {
            Py_ssize_t q = p;
            while (q < n && (is_atext(t[q]) || t[q] == ' ' || t[q] == '\t')) q++;
            end = angle_addr(t, q, n, &a, &b);
            if (end < 0 && q == p) end = p; /* an empty item */
        }
        if (end >= 0) end = skip_blanks(t, end, n);
        if (end < 0 || (end < n && t[end] != ',')) {
            Py_DECREF(out);
            return FALLBACK;
        }
        if (a >= 0) {
            PyObject *address = PyUnicode_New(b - a, 127);
            if (!address) {
                Py_DECREF(out);
                return NULL;
            }
            Py_UCS1 *chars = PyUnicode_1BYTE_DATA(address);
            for (Py_ssize_t k = a; k < b; k++) {
                unsigned char c = t[k];
                chars[k - a] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
            }
            int failed = PyList_Append(out, address);
            Py_DECREF(address);
            if (failed) {
                Py_DECREF(out);
                return NULL;
            }
        }
        pos = end + 1;
    }
    return out;
}

/* `_address_list` of a field's values (a list; [] when absent). */
static PyObject *address_list(const char *s, const Fields *f, int field) {
    int count = f->count[field_index[field]];
    const Span *spans = f->spans[field_index[field]];
    if (!count) return PyList_New(0);
    if (count <= MAX_VALUES) {
        Text t = {0};
        int plain = 1;
        for (int k = 0; k < count && plain > 0; k++) {
            if (k) plain = text_append(&t, ", ", 2);
            if (plain > 0) plain = unfold_ascii((const unsigned char *)s, spans[k], &t);
        }
        if (plain < 0) return PyErr_NoMemory();
        PyObject *result = plain ? bare_addresses(t.data ? t.data : "", t.len) : FALLBACK;
        text_free(&t);
        if (result != FALLBACK) return result;
    } else {
        return FALLBACK;
    }
    PyObject *values = PyList_New(count);
    if (!values) return NULL;
    for (int k = 0; k < count; k++) {
        PyObject *value = raw_value(s, spans[k]);
        if (!value) {
            Py_DECREF(values);
            return NULL;
        }
        PyList_SET_ITEM(values, k, value);
    }
    return call1(H_ADDRESS_LIST, values);
}

/* `message_ids(unfold(raw))`: a list of ids; the helper reads other forms. */
#define MAX_IDS 128

static unsigned char id_stop[256]; /* '<', '>' and py_space: filled at import */

static PyObject *message_id_list(const char *s, Span sp) {
    Text t = {0};
    int plain = unfold_ascii((const unsigned char *)s, sp, &t);
    if (plain < 0) return PyErr_NoMemory();
    const char *d = t.data ? t.data : "";
    Span ids[MAX_IDS]; /* each id without its brackets; the first of equal ones only */
    Py_ssize_t n = t.len, i = 0, count = 0;
    if (plain) { /* \s*+(?:<[^<>\s]++>\s*+)+ */
        while (i < n && py_space(d[i])) i++;
        while (i < n) {
            Py_ssize_t k = i + 1;
            while (k < n && !id_stop[(unsigned char)d[k]]) k++;
            if (d[i] != '<' || k == i + 1 || k >= n || d[k] != '>' || count == MAX_IDS) {
                plain = 0;
                break;
            }
            Py_ssize_t len = k - i - 1, seen = 0;
            for (Py_ssize_t j = 0; j < count && !seen; j++)
                seen = ids[j].end - ids[j].start == len &&
                       !memcmp(d + ids[j].start, d + i + 1, len);
            if (!seen) ids[count++] = (Span){i + 1, k};
            for (i = k + 1; i < n && py_space(d[i]);) i++;
        }
    }
    if (!plain || !count) {
        text_free(&t);
        return call1(H_MESSAGE_IDS, raw_value(s, sp));
    }
    PyObject *result = PyList_New(count);
    for (Py_ssize_t j = 0; result && j < count; j++) {
        PyObject *id = PyUnicode_FromStringAndSize(d + ids[j].start, ids[j].end - ids[j].start);
        if (!id) Py_CLEAR(result);
        else PyList_SET_ITEM(result, j, id);
    }
    text_free(&t);
    return result;
}

/* `list(_labels(raw))`: the text split at commas, each label stripped, empty ones left
 * out (`mail_headers.gmail_labels`); the helper reads quoted (CSV) labels. */
static PyObject *label_list(const char *s, Span sp) {
    PyObject *text = compiled_text(s, sp), *result = NULL;
    if (!text) return NULL;
    if (text == FALLBACK || PyUnicode_FindChar(text, '"', 0, PyUnicode_GET_LENGTH(text), 1) != -1) {
        if (text != FALLBACK) Py_DECREF(text);
        PyObject *labels = call1(H_LABELS, raw_value(s, sp));
        result = labels ? PySequence_List(labels) : NULL;
        Py_XDECREF(labels);
        return result;
    }
    PyObject *parts = PyUnicode_Split(text, comma_text, -1);
    Py_DECREF(text);
    if (!parts) return NULL;
    result = PyList_New(0);
    for (Py_ssize_t k = 0; result && k < PyList_GET_SIZE(parts); k++) {
        PyObject *label = PyObject_CallMethodNoArgs(PyList_GET_ITEM(parts, k), strip_name);
        if (!label || (PyUnicode_GET_LENGTH(label) && PyList_Append(result, label)))
            Py_CLEAR(result);
        Py_XDECREF(label);
    }
    Py_DECREF(parts);
    return result;
}

static PyObject *first_raw_or_none(const char *s, const Fields *f, int field) {
    if (!f->count[field_index[field]]) Py_RETURN_NONE;
    return raw_value(s, f->spans[field_index[field]][0]);
}

static PyObject *optional_text(const char *s, const Fields *f, int field, int none_if_empty) {
    if (!f->count[field_index[field]]) Py_RETURN_NONE;
    return text_value(s, f->spans[field_index[field]][0], none_if_empty);
}

/* "".join(unfold(raw).split()) == "<>"; -1 for a value with non-ASCII bytes. */
static int null_return_path(const char *s, Span sp) {
    char seen[3];
    int len = 0;
    for (Py_ssize_t i = sp.start; i < sp.end; i++) {
        unsigned char c = s[i];
        if (c >= 0x80) return -1;
        if (py_space(c)) continue;
        if (len == 2) return 0;
        seen[len++] = (char)c;
    }
    return len == 2 && seen[0] == '<' && seen[1] == '>';
}

/* `_delivery_report(raw)`, asking the helper only for a multipart/report. */
static PyObject *delivery_report(const char *s, Span sp) {
    Py_ssize_t a = sp.start, b = sp.end;
    for (Py_ssize_t i = a; i < b; i++) {
        if ((unsigned char)s[i] >= 0x80) return call1(H_DELIVERY_REPORT, raw_value(s, sp));
        if (s[i] == ';') {
            b = i;
            break;
        }
    }
    while (a < b && py_space(s[a])) a++;
    while (b > a && py_space(s[b - 1])) b--;
    static const char wanted[] = "multipart/report";
    int same = b - a == (Py_ssize_t)(sizeof wanted - 1);
    for (Py_ssize_t i = a; same && i < b; i++) {
        unsigned char c = s[i];
        if (c == '\r' || c == '\n') same = 0; /* unfolding would change it: ask */
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)wanted[i - a]) same = 0;
    }
    if (!same) {
        for (Py_ssize_t i = a; i < b; i++) /* a fold inside the name: let Python judge */
            if (s[i] == '\r' || s[i] == '\n') return call1(H_DELIVERY_REPORT, raw_value(s, sp));
        Py_RETURN_FALSE;
    }
    return call1(H_DELIVERY_REPORT, raw_value(s, sp));
}

static int bounce_sender(PyObject *address) {
    Py_ssize_t at = PyUnicode_FindChar(address, '@', 0, PyUnicode_GET_LENGTH(address), 1);
    if (at == -2) return -1;
    PyObject *local = at < 0 ? (Py_INCREF(address), address) : PyUnicode_Substring(address, 0, at);
    if (!local) return -1;
    int bounce = PyUnicode_CompareWithASCIIString(local, "mailer-daemon") == 0 ||
                 PyUnicode_CompareWithASCIIString(local, "postmaster") == 0;
    Py_DECREF(local);
    return bounce;
}

static PyObject *parse_date(PyObject *self, PyObject *arg);

/* The Date: (sent_at, status, date_text), or FALLBACK for a non-ASCII value. */
static PyObject *date_of(const char *s, const Fields *f) {
    if (!f->count[field_index[F_DATE]]) return Py_BuildValue("(OOs)", Py_None, status_missing, "");
    Text t = {0};
    int plain = unfold_ascii((const unsigned char *)s, f->spans[field_index[F_DATE]][0], &t);
    if (plain <= 0) {
        text_free(&t);
        return plain < 0 ? PyErr_NoMemory() : FALLBACK;
    }
    Py_ssize_t a = 0, b = t.len;
    while (a < b && py_space(t.data[a])) a++;
    while (b > a && py_space(t.data[b - 1])) b--;
    PyObject *text = PyUnicode_FromStringAndSize(t.data ? t.data + a : "", b - a);
    text_free(&t);
    if (!text) return NULL;
    PyObject *parsed = parse_date(NULL, text);
    if (parsed == Py_None) {
        Py_DECREF(parsed);
        parsed = PyObject_CallOneArg(helpers[H_PARSE_DATE], text);
    }
    if (!parsed) {
        Py_DECREF(text);
        return NULL;
    }
    PyObject *result = Py_BuildValue("(OOO)", PyTuple_GET_ITEM(parsed, 0),
                                     PyTuple_GET_ITEM(parsed, 1), text);
    Py_DECREF(parsed);
    Py_DECREF(text);
    return result;
}

#define RECORD_VALUES 24

/* `record` over the header block s[0:n]. */
static PyObject *record_values(const char *s, Py_ssize_t n, PyObject *mailbox, PyObject *source,
                               PyObject *source_ref) {
    if (!helpers[0]) {
        PyErr_SetString(PyExc_RuntimeError, "configure_record was not called");
        return NULL;
    }
    Fields f;
    if (!scan_fields((const unsigned char *)s, n, &f)) Py_RETURN_NONE;
    if (!f.count[field_index[F_FROM]]) return PyTuple_Pack(2, reject_from, reason_no_from);
    for (int k = 0; k < F_COUNT; k++) /* values past MAX_VALUES were not kept */
        if (f.count[field_index[k]] > MAX_VALUES) Py_RETURN_NONE;

    PyObject *v[RECORD_VALUES + 3] = {0};
    PyObject *sender = NULL, *date = NULL, *ids = NULL, *problems = NULL, *result = NULL;
    sender = call1(H_SENDER, raw_value(s, f.spans[field_index[F_FROM]][0]));
    if (!sender) goto done;
    if (!PyTuple_Check(sender) || PyTuple_GET_SIZE(sender) == 0) {
        result = PyTuple_Pack(2, reject_from, reason_no_address);
        goto done;
    }
    PyObject *first = PyTuple_GET_ITEM(sender, 0);
    if (!(problems = PyList_New(0))) goto done;
    v[7] = address_list(s, &f, F_TO);  /* to_addrs */
    if (!v[7] || v[7] == FALLBACK) goto fallback;
    v[10] = optional_text(s, &f, F_SUBJECT, 0);
    if (!v[10]) goto done;
    date = date_of(s, &f);
    if (!date || date == FALLBACK) goto fallback;
    PyObject *status = PyTuple_GET_ITEM(date, 1);
    if (status == status_missing) {
        if (PyList_Append(problems, problem_date_missing)) goto done;
    } else if (PyUnicode_CompareWithASCIIString(status, "ok") != 0) {
        PyObject *problem = PyUnicode_FromFormat("date_%U", status);
        if (!problem || PyList_Append(problems, problem)) {
            Py_XDECREF(problem);
            goto done;
        }
        Py_DECREF(problem);
    }
    int id_count = f.count[field_index[F_MESSAGE_ID]];
    if (id_count) {
        ids = message_id_list(s, f.spans[field_index[F_MESSAGE_ID]][0]);
        if (!ids) goto done;
    }
    if (ids && PyList_GET_SIZE(ids)) {
        v[1] = Py_NewRef(PyList_GET_ITEM(ids, 0));
        v[0] = Py_NewRef(v[1]);
        if (id_count > 1 && PyList_Append(problems, problem_duplicate_id)) goto done;
    } else {
        v[1] = Py_NewRef(Py_None);
        if (PyList_Append(problems, problem_missing_id)) goto done;
        v[0] = PyObject_CallFunctionObjArgs(helpers[H_FALLBACK_KEY], PyTuple_GET_ITEM(first, 1),
                                            PyTuple_GET_ITEM(date, 2), v[10], v[7], NULL);
        if (!v[0]) goto done;
    }
    v[2] = Py_NewRef(mailbox);
    v[3] = Py_NewRef(source);
    v[4] = Py_NewRef(source_ref);
    v[5] = Py_NewRef(PyTuple_GET_ITEM(first, 1)); /* from_addr */
    v[6] = Py_NewRef(PyTuple_GET_ITEM(first, 0)); /* from_name */
    v[8] = address_list(s, &f, F_CC);
    if (!v[8] || v[8] == FALLBACK) goto fallback;
    PyObject *reply_to = address_list(s, &f, F_REPLY_TO);
    if (!reply_to || reply_to == FALLBACK) {
        v[9] = reply_to;
        goto fallback;
    }
    v[9] = Py_NewRef(PyList_GET_SIZE(reply_to) ? PyList_GET_ITEM(reply_to, 0) : Py_None);
    Py_DECREF(reply_to);
    v[11] = Py_NewRef(PyTuple_GET_ITEM(date, 0));
    v[12] = Py_NewRef(status);
    if (f.count[field_index[F_IN_REPLY_TO]]) {
        PyObject *replied = message_id_list(s, f.spans[field_index[F_IN_REPLY_TO]][0]);
        if (!replied) goto done;
        v[13] = Py_NewRef(PyList_GET_SIZE(replied) ? PyList_GET_ITEM(replied, 0) : Py_None);
        Py_DECREF(replied);
    } else {
        v[13] = Py_NewRef(Py_None);
    }
    v[14] = f.count[field_index[F_REFERENCES]]
                ? message_id_list(s, f.spans[field_index[F_REFERENCES]][0])
                : PyList_New(0);
    v[15] = optional_text(s, &f, F_AUTO_SUBMITTED, 1);
    v[16] = optional_text(s, &f, F_PRECEDENCE, 1);
    v[17] = optional_text(s, &f, F_LIST_ID, 1);
    if (!v[14] || !v[15] || !v[16] || !v[17]) goto done;
    v[18] = PyBool_FromLong(f.count[field_index[F_X_AUTOREPLY]] ||
                            f.count[field_index[F_X_AUTORESPOND]]);
    int null_path = f.count[field_index[F_RETURN_PATH]]
                        ? null_return_path(s, f.spans[field_index[F_RETURN_PATH]][0])
                        : 0;
    if (null_path < 0) goto fallback;
    v[19] = PyBool_FromLong(null_path);
    int bounce = bounce_sender(v[5]);
    if (bounce < 0) goto done;
    if (bounce || !f.count[field_index[F_CONTENT_TYPE]]) {
        v[20] = PyBool_FromLong(bounce);
    } else {
        v[20] = delivery_report(s, f.spans[field_index[F_CONTENT_TYPE]][0]);
        if (!v[20]) goto done;
    }
    if (f.count[field_index[F_X_GMAIL_LABELS]]) {
        v[21] = label_list(s, f.spans[field_index[F_X_GMAIL_LABELS]][0]);
    } else {
        v[21] = PyList_New(0);
    }
    v[22] = optional_text(s, &f, F_X_GM_THRID, 1);
    if (!v[21] || !v[22]) goto done;
    v[23] = Py_NewRef(problems);
    v[24] = first_raw_or_none(s, &f, F_CONTENT_TYPE);
    v[25] = first_raw_or_none(s, &f, F_CTE);
    if (!v[24] || !v[25]) goto done;
    v[26] = PyBool_FromLong(f.count[field_index[F_IN_REPLY_TO]] ||
                            f.count[field_index[F_REFERENCES]]);
    result = PyTuple_New(RECORD_VALUES + 3);
    if (result) {
        for (int k = 0; k < RECORD_VALUES + 3; k++) {
            PyTuple_SET_ITEM(result, k, v[k]);
            v[k] = NULL;
        }
    }
    goto done;
fallback:
    if (!PyErr_Occurred()) result = Py_NewRef(Py_None);
done:
    for (int k = 0; k < RECORD_VALUES + 3; k++)
        if (v[k] != FALLBACK) Py_XDECREF(v[k]);
    if (date != FALLBACK) Py_XDECREF(date);
    Py_XDECREF(sender);
    Py_XDECREF(ids);
    Py_XDECREF(problems);
    return result;
}

static PyObject *record(PyObject *self, PyObject *args) {
    PyObject *block, *mailbox, *source, *source_ref;
    if (!PyArg_ParseTuple(args, "SOOO", &block, &mailbox, &source, &source_ref)) return NULL;
    return record_values(PyBytes_AS_STRING(block), PyBytes_GET_SIZE(block), mailbox, source,
                         source_ref);
}

static PyObject *configure_record(PyObject *self, PyObject *arg) {
    if (!PyTuple_Check(arg) || PyTuple_GET_SIZE(arg) != H_COUNT) {
        PyErr_Format(PyExc_TypeError, "configure_record expects a tuple of %d helpers", H_COUNT);
        return NULL;
    }
    for (int k = 0; k < F_COUNT; k++) {
        field_index[k] = lookup((const unsigned char *)FIELD_NAMES[k], strlen(FIELD_NAMES[k]));
        if (field_index[k] < 0) {
            PyErr_Format(PyExc_ValueError, "field %s is not configured", FIELD_NAMES[k]);
            return NULL;
        }
    }
    for (int k = 0; k < H_COUNT; k++) {
        Py_XSETREF(helpers[k], Py_NewRef(PyTuple_GET_ITEM(arg, k)));
    }
    Py_RETURN_NONE;
}

/* --- closing verdicts: the common non-closers -------------------------------------- */

/* Case-insensitive ASCII prefix test. */
static int starts_with_ci(const unsigned char *s, Py_ssize_t n, const char *word) {
    Py_ssize_t k = 0;
    for (; word[k]; k++) {
        if (k >= n) return 0;
        unsigned char c = s[k];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)word[k]) return 0;
    }
    return 1;
}

/* The first `needle` (at least 2 bytes) in s[from:n], or -1. SSE2 tests 16 places at
 * once for the needle's first two bytes; the rest is compared where both are found. */
static Py_ssize_t find_bytes(const unsigned char *s, Py_ssize_t n, Py_ssize_t from,
                             const unsigned char *needle, Py_ssize_t len) {
    Py_ssize_t i = from < 0 ? 0 : from, last = n - len; /* last place the needle fits */
#ifdef __SSE2__
    const __m128i first = _mm_set1_epi8((char)needle[0]), second = _mm_set1_epi8((char)needle[1]);
    for (; i + 32 <= last + 1 && i + 33 <= n; i += 32) { /* 32 places, one test if none */
        __m128i a = _mm_and_si128(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i)), first),
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i + 1)), second));
        __m128i b = _mm_and_si128(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i + 16)), first),
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i + 17)), second));
        if (!_mm_movemask_epi8(_mm_or_si128(a, b))) continue;
        unsigned mask = (unsigned)_mm_movemask_epi8(a) | (unsigned)_mm_movemask_epi8(b) << 16;
        while (mask) {
            int bit = __builtin_ctz(mask);
            if (memcmp(s + i + bit + 2, needle + 2, len - 2) == 0) return i + bit;
            mask &= mask - 1;
        }
    }
    for (; i + 16 <= last + 1 && i + 17 <= n; i += 16) {
        __m128i a = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i)), first);
        __m128i b = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i + 1)), second);
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(a, b));
        while (mask) {
            int bit = __builtin_ctz(mask);
            if (memcmp(s + i + bit + 2, needle + 2, len - 2) == 0) return i + bit;
            mask &= mask - 1;
        }
    }
#endif
    for (; i <= last; i++)
        if (s[i] == needle[0] && memcmp(s + i + 1, needle + 1, len - 1) == 0) return i;
    return -1;
}

/* The first p >= from with s[p] a line feed and s[p + 1] (before n) a line feed or CR. */
static Py_ssize_t find_break_pair(const unsigned char *s, Py_ssize_t n, Py_ssize_t from) {
    Py_ssize_t i = from;
#ifdef __SSE2__
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    for (; i + 17 <= n; i += 16) {
        __m128i next = _mm_loadu_si128((const __m128i *)(s + i + 1));
        __m128i hits = _mm_and_si128(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i)), lf),
            _mm_or_si128(_mm_cmpeq_epi8(next, lf), _mm_cmpeq_epi8(next, cr)));
        unsigned mask = (unsigned)_mm_movemask_epi8(hits);
        if (mask) return i + __builtin_ctz(mask);
    }
#endif
    for (; i + 1 < n; i++)
        if (s[i] == '\n' && (s[i + 1] == '\n' || s[i + 1] == '\r')) return i;
    return -1;
}

/* A header value without its line breaks, ASCII only (0 otherwise), stripped. */
static int plain_value(const unsigned char *s, Py_ssize_t n, Text *t) {
    Span all = {0, n};
    t->len = 0;
    if (unfold_ascii(s, all, t) != 1) return 0;
    return 1;
}

/* The MIME type of a Content-Type value (lower-case, into `out`), as
 * `value.partition(";")[0].strip().lower()`; 0 when it does not fit. */
static int mime_type(const char *v, Py_ssize_t n, char *out, Py_ssize_t cap) {
    Py_ssize_t end = 0;
    while (end < n && v[end] != ';') end++;
    Py_ssize_t a = 0;
    while (a < end && py_space(v[a])) a++;
    while (end > a && py_space(v[end - 1])) end--;
    if (end - a >= cap) return 0;
    for (Py_ssize_t k = a; k < end; k++) out[k - a] = (v[k] >= 'A' && v[k] <= 'Z') ? v[k] + 32 : v[k];
    out[end - a] = 0;
    return 1;
}

/* The value of parameter `name` as body_text's `_PARAM` regex finds it (first match). */
static int parameter(const char *v, Py_ssize_t n, const char *name, Py_ssize_t *a,
                     Py_ssize_t *b) {
    Py_ssize_t len = (Py_ssize_t)strlen(name);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (v[i] != ';') continue;
        Py_ssize_t k = i + 1;
        while (k < n && py_space(v[k])) k++;
        if (!starts_with_ci((const unsigned char *)v + k, n - k, name)) continue;
        k += len;
        while (k < n && py_space(v[k])) k++;
        if (k >= n || v[k] != '=') continue;
        k++;
        while (k < n && py_space(v[k])) k++;
        if (k < n && v[k] == '"') {
            Py_ssize_t q = k + 1;
            while (q < n && v[q] != '"') q++;
            if (q >= n) continue;
            *a = k + 1;
            *b = q;
            return 1;
        }
        Py_ssize_t q = k;
        while (q < n && !py_space(v[q]) && v[q] != ';' && v[q] != '"') q++;
        if (q == k) continue;
        *a = k;
        *b = q;
        return 1;
    }
    return 0;
}

/* Whether a text/plain part with this Content-Type and transfer encoding is read as
 * UTF-8 bytes as they are (no base64 or quoted-printable, a UTF-8 or ASCII charset). */
static int utf8_as_is(const char *ct, Py_ssize_t ct_len, const char *cte, Py_ssize_t cte_len) {
    char encoding[32];
    if (!mime_type(cte, cte_len, encoding, sizeof encoding)) return 0;
    if (!strcmp(encoding, "base64") || !strcmp(encoding, "quoted-printable")) return 0;
    Py_ssize_t a, b;
    if (!parameter(ct, ct_len, "charset", &a, &b)) return 1; /* us-ascii */
    while (a < b && py_space(ct[a])) a++;
    while (b > a && py_space(ct[b - 1])) b--;
    static const char *accepted[] = {"utf-8", "utf8", "us-ascii", "ascii"};
    for (size_t k = 0; k < sizeof accepted / sizeof accepted[0]; k++) {
        if ((Py_ssize_t)strlen(accepted[k]) == b - a &&
            starts_with_ci((const unsigned char *)ct + a, b - a, accepted[k]))
            return 1;
    }
    return 0;
}

/* One code point of valid UTF-8 at s[i] (its length in *len), or -1. */
static long utf8_at(const unsigned char *s, Py_ssize_t n, Py_ssize_t i, int *len) {
    unsigned char c = s[i];
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    int need = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
    if (!need || i + need >= n) return -1;
    long cp = c & (0x3F >> need);
    for (int k = 1; k <= need; k++) {
        if ((s[i + k] & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return -1;
    *len = need + 1;
    return cp;
}

/* str.isspace() for a code point. */
static int unicode_space(long cp) {
    return (cp < 0x80 && py_space((unsigned char)cp)) || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

typedef struct {
    Py_ssize_t first, last; /* byte offsets of the stripped line's first and last chars */
    Py_ssize_t chars;       /* its length in code points (0: blank) */
    int question;
} Line;

/* Read one line [a, b): 0 for invalid UTF-8. */
static int read_line(const unsigned char *s, Py_ssize_t a, Py_ssize_t b, Line *line) {
    Py_ssize_t count = 0, first = -1, last = -1, last_end = -1, seen = 0;
    line->question = 0;
    for (Py_ssize_t i = a; i < b;) {
        int len;
        long cp = utf8_at(s, b, i, &len);
        if (cp < 0) return 0;
        count++;
        if (!unicode_space(cp)) {
            if (first < 0) {
                first = i;
                seen = count;
            }
            last = i;
            last_end = count;
        }
        if (cp == '?') line->question = 1;
        i += len;
    }
    line->first = first;
    line->last = last;
    line->chars = first < 0 ? 0 : last_end - seen + 1;
    return 1;
}

/* What a line is to `closing._quote_start`: 2 certainly where the quote starts, 1 perhaps
 * (only the Python rules can tell), 0 certainly not. */
static int quote_start(const unsigned char *s, Py_ssize_t a, Py_ssize_t b, const Line *line) {
    if (line->first < 0) return 0;
    unsigned char c = s[line->first];
    Py_ssize_t rest = b - line->first;
    /* line.rstrip() == "--": nothing before the dashes */
    if (line->first == a && line->chars == 2 && c == '-' && s[a + 1] == '-') return 2;
    if (c == '>') return 2;
    if (c == '-' || c == '_' || s[line->last] == ':') return 1;
    int colon = memchr(s + line->first, ':', rest) != NULL;
    /* ^(?:from|від|от)\s*: — in Cyrillic, case-insensitively, it is the Python rules' call
     * (letters outside the Cyrillic block fold to в and о: start with any non-ASCII) */
    if (colon && c >= 0x80) return 1;
    if (colon && starts_with_ci(s + line->first, rest, "from")) {
        Py_ssize_t k = line->first + 4;
        while (k < b && py_space(s[k])) k++;
        if (k < b && (s[k] == ':' || s[k] >= 0x80)) return 1; /* or a non-ASCII space */
    }
    if (starts_with_ci(s + line->first, rest, "on ")) return 1;
    return 0;
}

#define MAX_OWN_CHARS 120

/* The verdicts settled here, made once (every record shares them). */
static PyObject *verdict_question, *verdict_no_text, *verdict_long, *verdict_other_words;
static PyObject *verdict_not_a_reply;

/* The letters of closing's thanks and acknowledgements (configure_closing), lower-case:
 * ASCII, and the Cyrillic block U+0400..U+045F. */
static unsigned char vocabulary_ascii[128], vocabulary_cyrillic[0x60];
static int vocabulary_set = 0; /* the other-words rule waits for configure_closing */

static long cyrillic_lower(long cp) {
    return cp >= 0x410 && cp <= 0x42F ? cp + 0x20 : cp >= 0x400 && cp <= 0x40F ? cp + 0x50 : cp;
}

/* What the Python rules may do with an own line, judged from its characters. */
typedef struct {
    unsigned char words;         /* a character no thanks or acknowledgement has */
    unsigned char not_greeting;  /* certainly not closing._GREETING */
    unsigned char not_name;      /* certainly not closing._NAME */
    unsigned char not_sign_off;  /* certainly not closing._SIGN_OFF */
} OwnLine;

/* Characters outside the vocabulary's letters, the clause separators and whitespace make
 * a clause that cannot be a thanks or an acknowledgement (their patterns are letters and
 * spaces only, case-insensitive: only ASCII and Cyrillic-block characters are judged).
 * The greeting, name and sign-off patterns are ruled out by their first letters and the
 * characters they allow; anything else stays possible. */
static void classify_line(const unsigned char *s, const Line *line, OwnLine *own) {
    int spaces = 0, name_chars = 1, sign_off_chars = line->chars <= 25, words = 0;
    long first = -1;
    for (Py_ssize_t i = line->first; i <= line->last;) {
        int len;
        long cp = utf8_at(s, line->last + 5, i, &len); /* read_line checked the bytes */
        if (cp < 0) { /* cannot happen; if it did, rule nothing out */
            *own = (OwnLine){0};
            return;
        }
        if (first < 0) first = cp;
        spaces += cp == ' ';
        if (cp < 128) {
            unsigned char c = (unsigned char)cp, lower = c >= 'A' && c <= 'Z' ? c + 32 : c;
            int letter = lower >= 'a' && lower <= 'z';
            if (!(letter || (c >= '0' && c <= '9') || (c && strchr("_'.- ", c)))) name_chars = 0;
            if (!(letter || c == ' ' || c == ',')) sign_off_chars = 0;
            if (c && !py_space(c) && !strchr(",.!;:-)(?", c) && !vocabulary_ascii[lower])
                words = 1;
        } else {
            if (unicode_space(cp)) name_chars = 0;
            if (cp >= 0x400 && cp < 0x460 && !vocabulary_cyrillic[cyrillic_lower(cp) - 0x400])
                words = 1;
        }
        i += len;
    }
    long lower = first < 128 ? (first >= 'A' && first <= 'Z' ? first + 32 : first)
                             : cyrillic_lower(first);
    own->words = (unsigned char)words;
    own->not_greeting = first < 128 ? first && !strchr("hdg", (int)lower)
                                    : first >= 0x400 && first < 0x460 && lower != 0x434 &&
                                          lower != 0x432 && lower != 0x43F && lower != 0x437;
    own->not_name =
        !name_chars || spaces >= 3 || (first < 128 && !(first >= 'A' && first <= 'Z'));
    own->not_sign_off =
        !sign_off_chars || (first < 128 && !(first && strchr("bkrcsy", (int)lower)));
}

#define MAX_OWN_LINES 32

/* Whether own line i of `count` certainly stays in the text closing's rules judge: a
 * greeting may go first, then a name last, then a sign-off last. */
static int certainly_kept(const OwnLine *own, Py_ssize_t i, Py_ssize_t count) {
    if (i == 0 && !own[0].not_greeting) return 0;
    if (i == count - 1) return own[i].not_name && own[i].not_sign_off;
    if (i == count - 2) return own[count - 1].not_name || own[i].not_sign_off;
    return 1;
}

/* (verdict, rule) when the opening lines settle it without the Python rules, else None:
 * a question before anything that may start the quote, no own words before the quote,
 * own words certainly longer than MAX_OWN_CHARS even if a greeting and a name and
 * sign-off were dropped, or, in words certainly judged and never too long for a closer,
 * a character no thanks or acknowledgement has (other words). */
static PyObject *own_text_verdict(const unsigned char *s, Py_ssize_t n, int whole) {
    Py_ssize_t total = 0, first = 0, last[2] = {0, 0}, lines = 0, pos = 0;
    int settled = 0;
    OwnLine own[MAX_OWN_LINES];
    for (;;) {
        Py_ssize_t end = pos;
        while (end < n && s[end] != '\n') end++;
        /* text[:-1] of a cut prefix: its last character never counts */
        if (!(end < n ? whole || end < n - 1 : whole)) break;
        Line line;
        if (!read_line(s, pos, end, &line)) Py_RETURN_NONE;
        int start = quote_start(s, pos, end, &line);
        if (start) {
            settled = start == 2;
            break;
        }
        if (line.question) return Py_NewRef(verdict_question);
        if (line.chars) {
            if (lines < MAX_OWN_LINES) classify_line(s, &line, &own[lines]);
            if (!lines) first = line.chars;
            total += line.chars;
            last[0] = last[1];
            last[1] = line.chars;
            lines++;
        }
        if (end >= n) {
            settled = 1;
            break;
        }
        pos = end + 1;
    }
    /* what stays of the words whatever is dropped: all but the first and last two lines */
    Py_ssize_t kept = lines >= 4 ? total - first - last[0] - last[1] + (lines - 4) : 0;
    if (settled && !lines) return Py_NewRef(verdict_no_text);
    if (settled && kept > MAX_OWN_CHARS) return Py_NewRef(verdict_long);
    if (settled && vocabulary_set && lines <= MAX_OWN_LINES && total + lines - 1 <= MAX_OWN_CHARS) {
        for (Py_ssize_t i = 0; i < lines; i++)
            if (own[i].words && certainly_kept(own, i, lines))
                return Py_NewRef(verdict_other_words);
    }
    Py_RETURN_NONE;
}

static PyObject *text_verdict; /* closing.plain_text_verdict (configure_scan) */

/* The part's text as `body_text.first_text` decodes it (UTF-8, a cut last character
 * dropped), judged by the Python rules without reading the MIME structure again. */
static PyObject *ask_text_verdict(const unsigned char *s, Py_ssize_t n, int whole) {
    PyObject *text = PyUnicode_DecodeUTF8((const char *)s, n, "replace");
    if (text && !whole) {
        Py_ssize_t length = PyUnicode_GET_LENGTH(text);
        Py_SETREF(text, PyUnicode_Substring(text, 0, length ? length - 1 : 0));
    }
    if (!text) return NULL;
    PyObject *result =
        PyObject_CallFunctionObjArgs(text_verdict, text, whole ? Py_True : Py_False, NULL);
    Py_DECREF(text);
    return result;
}

/* `closing.closing_verdict` for the shapes it settles from the opening lines alone: a
 * text/plain body, or the first part of a multipart one, in UTF-8 or ASCII without
 * transfer encoding. None for anything else (the Python rules decide); with `ask`,
 * a text/plain part of that kind the opening lines leave open goes to text_verdict. */
static PyObject *settled_verdict(PyObject *ct_raw, PyObject *cte_raw, const unsigned char *body,
                                 Py_ssize_t n, int whole, int ask) {
    Text ct = {0}, cte = {0};
    PyObject *result = NULL;
    char mime[64];
    if ((ct_raw != Py_None && (!PyBytes_Check(ct_raw) ||
                               !plain_value((const unsigned char *)PyBytes_AS_STRING(ct_raw),
                                            PyBytes_GET_SIZE(ct_raw), &ct))) ||
        (cte_raw != Py_None && (!PyBytes_Check(cte_raw) ||
                                !plain_value((const unsigned char *)PyBytes_AS_STRING(cte_raw),
                                             PyBytes_GET_SIZE(cte_raw), &cte))))
        goto undecided;
    const char *ct_text = ct.data ? ct.data : "", *cte_text = cte.data ? cte.data : "";
    Py_ssize_t ct_len = ct.len, cte_len = cte.len;
    if (ct_raw == Py_None) {
        ct_text = "text/plain";
        ct_len = 10;
    }
    if (!mime_type(ct_text, ct_len, mime, sizeof mime)) goto undecided;
    if (!strncmp(mime, "multipart/", 10)) { /* body_text._first_part, one level deep */
        Py_ssize_t a, b;
        if (!parameter(ct_text, ct_len, "boundary", &a, &b) || b == a || b - a > 200) goto undecided;
        unsigned char delimiter[204] = "\n--";
        memcpy(delimiter + 3, ct_text + a, b - a);
        Py_ssize_t dlen = b - a + 3;
        int at_start = n >= dlen - 1 && !memcmp(body, delimiter + 1, dlen - 1);
        Py_ssize_t start = at_start ? 0 : find_bytes(body, n, 0, delimiter, dlen) + 1;
        if (!start && !at_start) goto undecided;
        const unsigned char *nl = memchr(body + start, '\n', n - start);
        if (!nl) goto undecided;
        Py_ssize_t line_end = nl - body;
        Py_ssize_t lf = find_bytes(body, n, line_end, (const unsigned char *)"\n\n", 2);
        Py_ssize_t crlf = find_bytes(body, n, line_end, (const unsigned char *)"\n\r\n", 3);
        if (lf < 0 && crlf < 0) goto undecided;
        Py_ssize_t head_end = lf < 0 ? crlf + 3 : crlf < 0 ? lf + 2 : (lf + 2 < crlf + 3 ? lf + 2 : crlf + 3);
        /* the part's fields: Content-Type and Content-Transfer-Encoding, the last of each */
        Py_ssize_t part_ct[2] = {-1, -1}, part_cte[2] = {-1, -1};
        for (Py_ssize_t i = line_end + 1; i < head_end;) {
            Py_ssize_t e = i;
            while (e < head_end && body[e] != '\n') e++;
            Py_ssize_t *target = starts_with_ci(body + i, e - i, "content-type:") ? part_ct
                                 : starts_with_ci(body + i, e - i, "content-transfer-encoding:")
                                     ? part_cte
                                     : NULL;
            if (target) {
                Py_ssize_t v = i + (target == part_ct ? 13 : 26);
                if (e + 1 < head_end && (body[e + 1] == ' ' || body[e + 1] == '\t')) goto undecided;
                target[0] = v;
                target[1] = e;
                for (Py_ssize_t k = v; k < e; k++)
                    if (body[k] >= 0x80) goto undecided;
            }
            i = e + 1;
        }
        Py_ssize_t close = find_bytes(body, n, head_end - 1, delimiter, dlen);
        if (part_ct[0] >= 0) {
            ct_text = (const char *)body + part_ct[0];
            ct_len = part_ct[1] - part_ct[0];
        } else {
            ct_text = "text/plain";
            ct_len = 10;
        }
        cte_text = part_cte[0] >= 0 ? (const char *)body + part_cte[0] : "";
        cte_len = part_cte[0] >= 0 ? part_cte[1] - part_cte[0] : 0;
        if (!mime_type(ct_text, ct_len, mime, sizeof mime)) goto undecided;
        whole = close != -1 || whole;
        n = close == -1 ? n : close + 1;
        body += head_end;
        n -= head_end;
    }
    if (strcmp(mime, "text/plain") || !utf8_as_is(ct_text, ct_len, cte_text, cte_len))
        goto undecided;
    result = own_text_verdict(body, n, whole);
    if (ask && result == Py_None) {
        Py_DECREF(result);
        result = ask_text_verdict(body, n, whole);
    }
    goto done;
undecided:
    result = Py_NewRef(Py_None);
done:
    text_free(&ct);
    text_free(&cte);
    return result;
}

static PyObject *quick_verdict(PyObject *self, PyObject *args) {
    PyObject *ct_raw, *cte_raw;
    const unsigned char *body;
    Py_ssize_t n;
    int whole;
    if (!PyArg_ParseTuple(args, "OOy#p", &ct_raw, &cte_raw, &body, &n, &whole)) return NULL;
    return settled_verdict(ct_raw, cte_raw, body, n, whole, 0);
}

/* --- the mbox scan ------------------------------------------------------------------ */

/* What `scan` asks Python for: mbox._item (any message it does not build itself),
 * MessageRecord and its fields (RECORD_FIELDS), mail_headers.rules_verdict (for the
 * bodies settled_verdict leaves undecided), closing.plain_text_verdict (for their plain
 * text parts), and MAX_HEADER_BYTES, BODY_PREFIX_BYTES. */
static PyObject *scan_item, *record_type, *body_verdict, *envelope_date, *source_mbox;
static Py_ssize_t max_header_bytes, body_prefix_bytes;

static Py_ssize_t header_block_end(const unsigned char *d, Py_ssize_t n, Py_ssize_t start,
                                   Py_ssize_t stop) {
    if ((start < n && d[start] == '\n') || (start + 1 < n && d[start] == '\r' && d[start + 1] == '\n'))
        return start;
    /* header_end's first "\n\n", or a "\n\r\n" ending before it, in one pass over the
     * places where a line feed is followed by a line feed or a CR */
    for (Py_ssize_t p = start; (p = find_break_pair(d, stop, p)) >= 0; p++) {
        if (d[p + 1] == '\n') return p + 1;
        if (p + 2 < stop && d[p + 2] == '\n') /* "\n\r\n\n": the "\n\n" ends first */
            return p + 3 < stop && d[p + 3] == '\n' ? p + 3 : p + 1;
    }
    return stop;
}

/* Where each field of MessageRecord (a slots dataclass) sits in its instances, so that
 * records are filled as its __init__ fills them, without running it; 0 when a field is
 * not a plain slot (then the type is called). */
static Py_ssize_t record_offsets[RECORD_VALUES + 2];
static int record_slots = 0, sent_at_index = -1;

static int find_record_slots(PyObject *type, PyObject *fields) {
    record_slots = 0;
    if (!PyType_Check(type) || PyTuple_GET_SIZE(fields) != RECORD_VALUES + 2 ||
        PyObject_HasAttrString(type, "__post_init__"))
        return 0;
    for (int k = 0; k < RECORD_VALUES + 2; k++) {
        PyObject *descr = PyObject_GetAttr(type, PyTuple_GET_ITEM(fields, k));
        if (!descr) return -1;
        int slot = Py_IS_TYPE(descr, &PyMemberDescr_Type) &&
                   ((PyMemberDescrObject *)descr)->d_member->type == T_OBJECT_EX;
        if (slot) record_offsets[k] = ((PyMemberDescrObject *)descr)->d_member->offset;
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(fields, k), "sent_at") == 0)
            sent_at_index = k;
        Py_DECREF(descr);
        if (!slot) return 0;
    }
    record_slots = sent_at_index >= 0;
    return 0;
}

/* MessageRecord(*args) */
static PyObject *new_record(PyObject *const *args) {
    if (!record_slots) return PyObject_Vectorcall(record_type, args, RECORD_VALUES + 2, NULL);
    PyTypeObject *type = (PyTypeObject *)record_type;
    PyObject *record = type->tp_alloc(type, 0);
    if (!record) return NULL;
    for (int k = 0; k < RECORD_VALUES + 2; k++)
        *(PyObject **)((char *)record + record_offsets[k]) = Py_NewRef(args[k]);
    return record;
}

/* --- records between processes (mbox._pack and mbox._unpack) ----------------------- */

/* A record's values as a tuple, `sent_at` as microseconds since the epoch; NULL without
 * an error when mbox._pack should say (an unset field, a sent_at not in UTC). */
static PyObject *pack_record(PyObject *record) {
    PyObject *values = PyTuple_New(RECORD_VALUES + 2);
    for (int k = 0; values && k < RECORD_VALUES + 2; k++) {
        PyObject *value = *(PyObject **)((char *)record + record_offsets[k]);
        if (value && k == sent_at_index && value != Py_None) {
            if (!PyDateTime_CheckExact(value) ||
                PyDateTime_DATE_GET_TZINFO(value) != PyDateTimeAPI->TimeZone_UTC) {
                Py_CLEAR(values);
                break;
            }
            long long seconds = days_from_civil(PyDateTime_GET_YEAR(value),
                                                PyDateTime_GET_MONTH(value),
                                                PyDateTime_GET_DAY(value)) * 86400LL +
                                PyDateTime_DATE_GET_HOUR(value) * 3600 +
                                PyDateTime_DATE_GET_MINUTE(value) * 60 +
                                PyDateTime_DATE_GET_SECOND(value);
            value = PyLong_FromLongLong(seconds * 1000000 + PyDateTime_DATE_GET_MICROSECOND(value));
            if (!value) Py_CLEAR(values);
            else PyTuple_SET_ITEM(values, k, value);
            continue;
        }
        if (!value) {
            Py_CLEAR(values);
            break;
        }
        PyTuple_SET_ITEM(values, k, Py_NewRef(value));
    }
    return values;
}

/* pack(items, python_pack) -> list: `[mbox._pack(item) for item in items]`, records read
 * here. */
static PyObject *pack(PyObject *self, PyObject *args) {
    PyObject *items, *python_pack;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &items, &python_pack)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(items);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *item = PyList_GET_ITEM(items, i), *packed = NULL;
        if (record_slots && Py_IS_TYPE(item, (PyTypeObject *)record_type))
            packed = pack_record(item);
        if (!packed && !PyErr_Occurred()) packed = PyObject_CallOneArg(python_pack, item);
        if (!packed) Py_CLEAR(out);
        else PyList_SET_ITEM(out, i, packed);
    }
    return out;
}

/* unpack(values) -> list: each packed record (a tuple of the record's length) as a
 * MessageRecord again, with its datetime; other tuples are left for mbox._unpack. */
static PyObject *unpack(PyObject *self, PyObject *arg) {
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "unpack expects a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(arg);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *values = PyList_GET_ITEM(arg, i), *item = NULL;
        if (!record_slots || !PyTuple_CheckExact(values) ||
            PyTuple_GET_SIZE(values) != RECORD_VALUES + 2) {
            PyList_SET_ITEM(out, i, Py_NewRef(values));
            continue;
        }
        PyObject *args[RECORD_VALUES + 2], *micros = PyTuple_GET_ITEM(values, sent_at_index);
        for (int k = 0; k < RECORD_VALUES + 2; k++) args[k] = PyTuple_GET_ITEM(values, k);
        PyObject *moment = NULL;
        if (micros != Py_None) {
            long long us = PyLong_AsLongLong(micros);
            if (us == -1 && PyErr_Occurred()) {
                Py_CLEAR(out);
                break;
            }
            long long seconds = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
            long long days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
            long long of_day = seconds - days * 86400, y;
            int m, d;
            civil_from_days(days, &y, &m, &d);
            if (y < 1 || y > 9999) { /* out of datetime's range: Python raises */
                PyList_SET_ITEM(out, i, Py_NewRef(values));
                continue;
            }
            moment = PyDateTimeAPI->DateTime_FromDateAndTime(
                (int)y, m, d, (int)(of_day / 3600), (int)(of_day / 60 % 60), (int)(of_day % 60),
                (int)(us - seconds * 1000000), PyDateTimeAPI->TimeZone_UTC,
                PyDateTimeAPI->DateTimeType);
            if (!moment) {
                Py_CLEAR(out);
                break;
            }
            args[sent_at_index] = moment;
        }
        item = new_record(args);
        Py_XDECREF(moment);
        if (!item) Py_CLEAR(out);
        else PyList_SET_ITEM(out, i, item);
    }
    return out;
}

/* mbox._item for a complete message d[start:end] (not the file's last), or NULL. */
static PyObject *scan_one(PyObject *buffer, Py_ssize_t start, Py_ssize_t end, PyObject *source_ref,
                          PyObject *mailbox) {
    const unsigned char *d = (const unsigned char *)PyBytes_AS_STRING(buffer);
    Py_ssize_t n = PyBytes_GET_SIZE(buffer);
    const unsigned char *nl = memchr(d + start, '\n', end - start);
    Py_ssize_t line_end = nl ? nl - d : -1;
    PyObject *values = NULL, *verdict = NULL, *result = NULL;
    if (line_end < 0 || line_end - start > max_header_bytes) goto python;
    Py_ssize_t block_end = header_block_end(d, n, line_end + 1, end);
    if (block_end - line_end > max_header_bytes) goto python;
    values = record_values((const char *)d + line_end + 1, block_end - line_end - 1, mailbox,
                           source_mbox, source_ref);
    if (!values) return NULL;
    if (values == Py_None || PyTuple_GET_SIZE(values) != RECORD_VALUES + 3) /* rejected */
        goto python;
    Py_ssize_t body_start = block_end + (block_end < n && d[block_end] == '\n' ? 1 : 2);
    if (body_start > end) body_start = end;
    Py_ssize_t body_stop = body_start + body_prefix_bytes < end ? body_start + body_prefix_bytes : end;
    int whole = body_stop == end;
    PyObject *content_type = PyTuple_GET_ITEM(values, RECORD_VALUES);
    PyObject *encoding = PyTuple_GET_ITEM(values, RECORD_VALUES + 1);
    if (PyTuple_GET_ITEM(values, RECORD_VALUES + 2) == Py_True) {
        verdict = settled_verdict(content_type, encoding, d + body_start, body_stop - body_start,
                                  whole, 1);
        if (verdict == Py_None) {
            Py_DECREF(verdict);
            PyObject *prefix = PyBytes_FromStringAndSize((const char *)d + body_start,
                                                         body_stop - body_start);
            PyObject *body = prefix ? Py_BuildValue("(NO)", prefix, whole ? Py_True : Py_False)
                                    : NULL;
            verdict = body ? PyObject_CallFunctionObjArgs(body_verdict, content_type, encoding,
                                                          body, NULL)
                           : NULL;
            Py_XDECREF(body);
        }
    } else {
        verdict = Py_NewRef(verdict_not_a_reply);
    }
    if (!verdict) goto done;
    PyObject *args[RECORD_VALUES + 2];
    for (int k = 0; k < RECORD_VALUES; k++) args[k] = PyTuple_GET_ITEM(values, k);
    args[RECORD_VALUES] = PyTuple_GET_ITEM(verdict, 0);
    args[RECORD_VALUES + 1] = PyTuple_GET_ITEM(verdict, 1);
    result = new_record(args);
    if (result && PyTuple_GET_ITEM(values, 11) == Py_None) { /* mbox._date_from_envelope */
        PyObject *dated = PyObject_CallFunction(envelope_date, "Oy#y#", result, d + start + 5,
                                                line_end - start - 5, d + line_end + 1,
                                                block_end - line_end - 1);
        if (!dated) Py_CLEAR(result);
        Py_XDECREF(dated);
    }
    goto done;
python:
    Py_XDECREF(values);
    values = NULL;
    result = PyObject_CallFunction(scan_item, "OnnOOOO", buffer, start, end, source_ref, mailbox,
                                   Py_True, Py_False);
done:
    Py_XDECREF(values);
    Py_XDECREF(verdict);
    return result;
}

/* scan(buffer, at, stop, base, path, mailbox) -> (items, at): the items of every message
 * that starts in buffer[at:stop] and ends at a following From line in the buffer; `at`
 * is where the first message not read starts (the file's offset of buffer[0] is base). */
static PyObject *scan(PyObject *self, PyObject *args) {
    PyObject *buffer, *path, *mailbox;
    Py_ssize_t at, stop, base;
    if (!PyArg_ParseTuple(args, "SnnnUU", &buffer, &at, &stop, &base, &path, &mailbox)) return NULL;
    if (!scan_item) {
        PyErr_SetString(PyExc_RuntimeError, "configure_scan was not called");
        return NULL;
    }
    const unsigned char *d = (const unsigned char *)PyBytes_AS_STRING(buffer);
    Py_ssize_t n = PyBytes_GET_SIZE(buffer);
    PyObject *items = PyList_New(0);
    while (items && at < stop) {
        Py_ssize_t following = find_bytes(d, n, at, (const unsigned char *)"\nFrom ", 6);
        if (following < 0) break;
        PyObject *source_ref = PyUnicode_FromFormat("%U:%zd", path, base + at);
        PyObject *item = source_ref ? scan_one(buffer, at, following + 1, source_ref, mailbox) : NULL;
        Py_XDECREF(source_ref);
        if (!item || PyList_Append(items, item)) Py_CLEAR(items);
        Py_XDECREF(item);
        at = following + 1;
    }
    return items ? Py_BuildValue("(Nn)", items, at) : NULL;
}

static PyObject *configure_scan(PyObject *self, PyObject *arg) {
    PyObject *item, *type, *fields, *verdict, *plain, *dating;
    if (!PyArg_ParseTuple(arg, "OOO!OOOnn", &item, &type, &PyTuple_Type, &fields, &verdict, &plain,
                          &dating, &max_header_bytes, &body_prefix_bytes))
        return NULL;
    if (find_record_slots(type, fields) < 0) return NULL;
    Py_XSETREF(text_verdict, Py_NewRef(plain));
    Py_XSETREF(scan_item, Py_NewRef(item));
    Py_XSETREF(record_type, Py_NewRef(type));
    Py_XSETREF(body_verdict, Py_NewRef(verdict));
    Py_XSETREF(envelope_date, Py_NewRef(dating));
    Py_RETURN_NONE;
}

/* header_text(raw) -> str | None: compiled_text over a whole raw value (None: Python's). */
static PyObject *header_text(PyObject *self, PyObject *arg) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "header_text expects bytes");
        return NULL;
    }
    Span all = {0, PyBytes_GET_SIZE(arg)};
    PyObject *result = compiled_text(PyBytes_AS_STRING(arg), all);
    return result == FALLBACK ? Py_NewRef(Py_None) : result;
}

static PyObject *configure_charsets(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "configure_charsets expects a sequence of names");
    if (!seq) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    charset_count = 0;
    for (Py_ssize_t i = 0; i < count && i < MAX_CHARSETS; i++) {
        Py_ssize_t len;
        PyObject *name = PySequence_Fast_GET_ITEM(seq, i);
        const char *text = PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &len) : NULL;
        if (!text || len >= (Py_ssize_t)sizeof charsets[0]) {
            Py_DECREF(seq);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad charset name");
            return NULL;
        }
        memcpy(charsets[i], text, len + 1);
        charset_count = (int)i + 1;
    }
    Py_DECREF(seq);
    Py_RETURN_NONE;
}

/* configure_closing(letters): the letters of closing's thanks and acknowledgements. */
static PyObject *configure_closing(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "configure_closing expects a str");
        return NULL;
    }
    memset(vocabulary_ascii, 0, sizeof vocabulary_ascii);
    memset(vocabulary_cyrillic, 0, sizeof vocabulary_cyrillic);
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(arg); i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(arg, i);
        if (c < 128) vocabulary_ascii[c >= 'A' && c <= 'Z' ? c + 32 : c] = 1;
        else if (c >= 0x400 && c < 0x460) vocabulary_cyrillic[cyrillic_lower(c) - 0x400] = 1;
    }
    vocabulary_set = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"parse_date", parse_date, METH_O, "A Date in the common RFC 5322 shape, as aware UTC."},
    {"configure", configure, METH_O, "Set the canonical lower-case field names."},
    {"record", record, METH_VARARGS, "A record's values from a header block."},
    {"configure_record", configure_record, METH_O, "Set the Python helpers of record."},
    {"quick_verdict", quick_verdict, METH_VARARGS, "A closing verdict the opening lines settle."},
    {"scan", scan, METH_VARARGS, "The items of the complete messages in an mbox buffer."},
    {"configure_scan", configure_scan, METH_O, "Set the Python helpers of scan."},
    {"pack", pack, METH_VARARGS, "Items as the tuples mbox workers send."},
    {"unpack", unpack, METH_O, "Packed records as MessageRecords again."},
    {"header_text", header_text, METH_O, "A text field's value, or None when Python decides."},
    {"configure_charsets", configure_charsets, METH_O, "Set the charsets decoded here."},
    {"configure_closing", configure_closing, METH_O, "Set the closing vocabulary's letters."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mailscan", NULL, -1, methods};

PyMODINIT_FUNC PyInit__mailscan(void) {
    for (int c = 0; c < 256; c++)
        atext[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c && strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL);
    for (int c = 0; c < 256; c++) id_stop[c] = c == '<' || c == '>' || py_space(c);
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(base64_value, -1, sizeof base64_value);
    for (int k = 0; k < 64; k++) base64_value[(unsigned char)alphabet[k]] = (signed char)k;
    verdict_question = Py_BuildValue("(ss)", "not_closer", "question");
    verdict_no_text = Py_BuildValue("(ss)", "not_closer", "no_text");
    verdict_long = Py_BuildValue("(ss)", "not_closer", "long");
    verdict_other_words = Py_BuildValue("(ss)", "not_closer", "other_words");
    verdict_not_a_reply = Py_BuildValue("(ss)", "unknown", "not_a_reply");
    if (!verdict_question || !verdict_no_text || !verdict_long || !verdict_other_words ||
        !verdict_not_a_reply)
        return NULL;
    strip_name = PyUnicode_InternFromString("strip");
    space_text = PyUnicode_InternFromString(" ");
    empty_text = PyUnicode_InternFromString("");
    comma_text = PyUnicode_InternFromString(",");
    if (!strip_name || !space_text || !empty_text || !comma_text) return NULL;
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    status_ok = PyUnicode_InternFromString("ok");
    status_naive = PyUnicode_InternFromString("naive");
    status_unparseable = PyUnicode_InternFromString("unparseable");
    status_missing = PyUnicode_InternFromString("missing");
    source_mbox = PyUnicode_InternFromString("mbox");
    problem_date_missing = PyUnicode_InternFromString("date_missing");
    problem_missing_id = PyUnicode_InternFromString("missing_message_id");
    problem_duplicate_id = PyUnicode_InternFromString("duplicate_message_id_header");
    reject_from = PyUnicode_InternFromString("From");
    reason_no_from = PyUnicode_InternFromString("no From header");
    reason_no_address = PyUnicode_InternFromString("From header has no address");
    if (!status_ok || !status_naive || !status_unparseable || !status_missing || !source_mbox ||
        !problem_date_missing || !problem_missing_id || !problem_duplicate_id ||
        !reject_from || !reason_no_from || !reason_no_address)
        return NULL;
    return PyModule_Create(&module);
}
