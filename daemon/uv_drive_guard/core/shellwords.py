"""Words and operators of a POSIX shell line, and whether bash parses a CR LF line as it stands.

Shared by the lexer (`shelllex`): where a word ends (quotes, escapes, `$(...)`), and the small
part of bash's grammar that decides where bash, zsh and dash stop reading a CR LF startup
file. On such a line the CR belongs to the last word, so `fi`, `done`, `esac`, `}`, `then`,
`do` or `in` at a line's end are plain words, a compound command never closes, and the shell
stops at it with "syntax error: unexpected end of file" (seen with bash 5.2, zsh 5.9, dash
0.5.12; tests run them).
"""

from __future__ import annotations

import re

INSIDE = {
    '"': re.compile(r'[\\"]'),
    "'": re.compile(r"[\\']"),  # fish's single quotes
    "$'": re.compile(r"[\\']"),  # bash and zsh's $'...': backslash escapes, even \'
    "`": re.compile(r"[\\`]"),
}
_WORD_STOP = re.compile(r"[\\'\"`$(){} \t;&|<>]")


def word_end(text: str, i: int) -> int:
    """End of the shell word starting at i: quotes, escapes, `$(...)`, `${...}`, backquotes."""
    depth, quote, size = 0, "", len(text)
    while i < size:
        if quote == "'":
            end = text.find("'", i)
            quote, i = ("", end + 1) if end >= 0 else (quote, size)
            continue
        match = INSIDE[quote].search(text, i) if quote else _WORD_STOP.search(text, i)
        if match is None:
            return size
        j = match.start()
        char = text[j]
        if char == "\\":
            i = j + 2
        elif quote:
            quote, i = "", j + 1
        elif char in "'\"`":
            quote, i = char, j + 1
        elif text.startswith("$'", j):
            quote, i = "$'", j + 2
        elif text.startswith(("$(", "${"), j):
            depth, i = depth + 1, j + 2
        elif depth and char in "({":
            depth, i = depth + 1, j + 1
        elif depth and char in ")}":
            depth, i = depth - 1, j + 1
        elif char in " \t;&|<>()" and not depth:
            return j
        else:
            i = j + 1
    return size


_OPERATORS = (";;", "&&", "||", ";", "&", "|", "(", ")", "<", ">")
_CLOSER = {"if": "fi", "while": "done", "until": "done", "for": "done", "select": "done", "case": "esac"}
_CLOSER |= {"{": "}", "[[": "]]"}
_LEADS = frozenset({"then", "do", "else", "elif", "!", "time"})  # a command follows them


def tokens(text: str) -> list[str]:
    """The words and operators of one POSIX logical line, up to a comment; a redirection's
    file descriptor number (`2>`) is left out. Blanks are space and tab: a CR is a word."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in " \t":
            i += 1
        elif char == "#":
            break
        elif text.startswith(("&&", "||", ";;"), i):
            out.append(text[i : i + 2])
            i += 2
        elif char in ";&|()<>":
            out.append(char)
            i += 1
        else:
            end = word_end(text, i)
            if end < len(text) and text[end] == "(" and text[i:end].endswith("="):
                end = _array_end(text, end + 1)  # `X=(a b)`: an array, one word
            word = text[i:end]
            if not (word.isdigit() and text[end : end + 1] in ("<", ">")):
                out.append(word)
            i = max(end, i + 1)
    return out


def _array_end(text: str, i: int) -> int:
    """Just past the `)` that closes an array's elements starting at i."""
    while i < len(text) and text[i] != ")":
        i = i + 1 if text[i] in " \t\n" else max(word_end(text, i), i + 1)
    return min(i + 1, len(text))


def parses(text: str) -> bool:
    """Whether bash runs this one line as it stands, a CR-tainted word being a plain word:
    every compound command opened on it closes on it, only an operator or a redirection
    follows a closing word, and a function's `()` is followed by a compound command."""
    words = tokens(text)
    stack: list[str] = []
    command, after, name = True, False, False  # a reserved word may stand here; just closed; after a command name
    k = 0
    while k < len(words):
        token = words[k]
        k += 1
        if token in ("<", ">"):  # its target (after any `>&`, `>>`) is a word, even after a closer
            while k < len(words) and words[k] in ("<", ">", "&"):
                k += 1
            k += 1
            continue
        if token == "(" and name:  # `f() ...`: a function, whose body must be a compound command
            if words[k : k + 1] != [")"] or not (words[k + 1 : k + 2] and words[k + 1] in (*_CLOSER, "(")):
                return False
            k += 1
            command, after, name = True, False, False
            continue
        if token in _OPERATORS:
            if token == ")" and stack[-1:] == [")"]:
                stack.pop()
                command, after, name = False, True, False
                continue
            if token == "(":
                if not command:
                    return False
                stack.append(")")
            command, after, name = True, False, False
            continue
        if after:
            return False  # `(x)` or `fi` followed by a word: "syntax error near unexpected token"
        if command and token == "function":
            k += 1 + (words[k + 1 : k + 3] == ["(", ")"]) * 2
            if not (words[k : k + 1] and words[k] in (*_CLOSER, "(")):
                return False
            continue
        if command and token in _CLOSER:
            stack.append(_CLOSER[token])
            if token == "case":  # `case WORD in`, `in` exactly
                if words[k + 1 : k + 2] != ["in"]:
                    return False
                k += 2
            command, name = token not in ("for", "select"), False
            continue
        if stack and token == stack[-1] and (command or token == "]]"):
            stack.pop()
            command, after, name = False, True, False
            continue
        name = command and token not in _LEADS
        command = token in _LEADS
    return not stack
