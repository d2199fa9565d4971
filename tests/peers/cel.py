# A small evaluator for the part of CEL (github.com/google/cel-spec) the
# ValidatingAdmissionPolicy in k8s/components/node-policy uses, with the
# Kubernetes string extensions it calls (substring, join, matches): literals,
# lists, maps, field selection and indexing, has(), size(), the operators,
# the ternary, and the macros all, exists and filter.  An expression outside
# that part is an error, never a guess.  Semantics follow cel-go: a missing
# key is an error (so is a type mismatch), && and || absorb an error when
# the other side decides.
import re

TOKEN = re.compile(r"""\s*(?:
    (?P<num>\d+)|
    (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|
    (?P<id>[A-Za-z_][A-Za-z0-9_]*)|
    (?P<op>==|!=|<=|>=|&&|\|\||[-+!<>?:.,()\[\]{}]))""", re.X)


class CelError(Exception):
    pass


def tokenize(s):
    out, pos = [], 0
    s = s.rstrip()
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise CelError("cannot read %r" % s[pos:pos + 20])
        pos = m.end()
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "str":
            body = text[1:-1]
            text = re.sub(r"\\(.)", lambda e: {"n": "\n", "t": "\t"}.get(e.group(1), e.group(1)), body)
        out.append((kind, text))
    out.append(("end", None))
    return out


class Parser:
    def __init__(self, text):
        self.t = tokenize(text)
        self.i = 0

    def peek(self, text=None):
        k, v = self.t[self.i]
        return v == text and k in ("op", "id") if text else (k, v)

    def take(self, text=None):
        k, v = self.t[self.i]
        if text is not None and not (v == text and k in ("op", "id")):
            raise CelError("expected %r, found %r" % (text, v))
        self.i += 1
        return k, v

    def parse(self):
        e = self.cond()
        if self.t[self.i][0] != "end":
            raise CelError("unexpected %r" % (self.t[self.i][1],))
        return e

    def cond(self):
        c = self.binary(0)
        if self.peek("?"):
            self.take("?")
            a = self.cond()
            self.take(":")
            return ("?", c, a, self.cond())
        return c

    LEVELS = [("||",), ("&&",), ("==", "!=", "<", ">", "<=", ">=", "in"), ("+", "-")]

    def binary(self, level):
        if level == len(self.LEVELS):
            return self.unary()
        e = self.binary(level + 1)
        while self.t[self.i][1] in self.LEVELS[level] and self.t[self.i][0] in ("op", "id"):
            op = self.take()[1]
            e = (op, e, self.binary(level + 1))
        return e

    def unary(self):
        if self.peek("!"):
            self.take()
            return ("!", self.unary())
        if self.peek("-"):
            self.take()
            return ("neg", self.unary())
        return self.member()

    def args(self):
        self.take("(")
        out = []
        if not self.peek(")"):
            out.append(self.cond())
            while self.peek(","):
                self.take()
                out.append(self.cond())
        self.take(")")
        return out

    def member(self):
        e = self.primary()
        while True:
            if self.peek("."):
                self.take()
                kind, name = self.take()
                if kind != "id":
                    raise CelError("expected a name after '.'")
                if self.peek("("):
                    e = ("call", name, e, self.args())
                else:
                    e = ("sel", e, name)
            elif self.peek("["):
                self.take()
                idx = self.cond()
                self.take("]")
                e = ("idx", e, idx)
            else:
                return e

    def primary(self):
        kind, v = self.take()
        if kind == "num":
            return ("lit", int(v))
        if kind == "str":
            return ("lit", v)
        if kind == "id":
            if v in ("true", "false"):
                return ("lit", v == "true")
            if v == "null":
                return ("lit", None)
            if self.peek("("):
                return ("call", v, None, self.args())
            return ("var", v)
        if v == "(":
            e = self.cond()
            self.take(")")
            return e
        if v == "[":
            items = []
            while not self.peek("]"):
                items.append(self.cond())
                if self.peek(","):
                    self.take()
            self.take("]")
            return ("list", items)
        if v == "{":
            items = []
            while not self.peek("}"):
                k = self.cond()
                self.take(":")
                items.append((k, self.cond()))
                if self.peek(","):
                    self.take()
            self.take("}")
            return ("map", items)
        raise CelError("unexpected %r" % v)


def _bool(v):
    if not isinstance(v, bool):
        raise CelError("no such overload: %r is not a bool" % (v,))
    return v


def _same_type(a, b):
    # CEL has no heterogeneous equality for these types but null.
    if a is None or b is None:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return type(a) is type(b) or (isinstance(a, (dict, list)) and type(a) is type(b))


def ev(e, env):
    op = e[0]
    if op == "lit":
        return e[1]
    if op == "var":
        if e[1] not in env:
            raise CelError("undeclared reference to %r" % e[1])
        return env[e[1]]
    if op == "list":
        return [ev(x, env) for x in e[1]]
    if op == "map":
        return {ev(k, env): ev(v, env) for k, v in e[1]}
    if op == "sel":
        obj = ev(e[1], env)
        if not isinstance(obj, dict) or e[2] not in obj:
            raise CelError("no such key: %s" % e[2])
        return obj[e[2]]
    if op == "idx":
        obj, key = ev(e[1], env), ev(e[2], env)
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError):
            raise CelError("no such key: %r" % (key,))
    if op == "?":
        return ev(e[2], env) if _bool(ev(e[1], env)) else ev(e[3], env)
    if op == "!":
        return not _bool(ev(e[1], env))
    if op == "neg":
        return -ev(e[1], env)
    if op in ("&&", "||"):
        decide = op == "||"
        err = None
        for side in (e[1], e[2]):
            try:
                if _bool(ev(side, env)) == decide:
                    return decide
            except CelError as x:
                err = x
        if err:
            raise err
        return not decide
    if op in ("==", "!=", "<", ">", "<=", ">=", "in", "+", "-"):
        a, b = ev(e[1], env), ev(e[2], env)
        if op == "in":
            if not isinstance(b, (dict, list)):
                raise CelError("no such overload: in")
            return a in b
        if op in ("==", "!="):
            if not _same_type(a, b):
                raise CelError("no such overload: %r %s %r" % (a, op, b))
            return (a == b) == (op == "==")
        if type(a) is not type(b) or isinstance(a, (bool, dict)) or a is None:
            raise CelError("no such overload: %s" % op)
        return {"<": lambda: a < b, ">": lambda: a > b, "<=": lambda: a <= b, ">=": lambda: a >= b,
                "+": lambda: a + b, "-": lambda: a - b}[op]()
    if op == "call":
        name, target, args = e[1], e[2], e[3]
        if target is None:
            if name == "has":
                if len(args) != 1 or args[0][0] != "sel":
                    raise CelError("has() needs a field selection")
                obj = ev(args[0][1], env)
                return isinstance(obj, dict) and args[0][2] in obj
            if name == "size":
                v = ev(args[0], env)
                if not isinstance(v, (str, list, dict)):
                    raise CelError("no such overload: size")
                return len(v)
            raise CelError("undeclared function %s" % name)
        if name in ("all", "exists", "filter"):
            if len(args) != 2 or args[0][0] != "var":
                raise CelError("%s() needs a variable and an expression" % name)
            coll = ev(target, env)
            if not isinstance(coll, (list, dict)):
                raise CelError("no such overload: %s" % name)
            var = args[0][1]
            results = []
            for item in list(coll):
                sub = dict(env)
                sub[var] = item
                results.append((item, _bool(ev(args[1], sub))))
            if name == "all":
                return all(r for _, r in results)
            if name == "exists":
                return any(r for _, r in results)
            return [i for i, r in results if r]
        t = ev(target, env)
        a = [ev(x, env) for x in args]
        if isinstance(t, str):
            if name == "startsWith":
                return t.startswith(a[0])
            if name == "endsWith":
                return t.endswith(a[0])
            if name == "contains":
                return a[0] in t
            if name == "matches":
                return re.search(a[0], t) is not None
            if name == "substring":
                if not 0 <= a[0] <= len(t):
                    raise CelError("index out of range: %d" % a[0])
                return t[a[0]:a[1]] if len(a) > 1 else t[a[0]:]
        if isinstance(t, list) and name == "join":
            return (a[0] if a else "").join(t)
        raise CelError("no such overload: %s" % name)
    raise CelError("unknown node %s" % op)


def evaluate(text, env):
    return ev(Parser(text).parse(), env)
