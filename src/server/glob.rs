//! Redis's glob matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a-z]`, `\x`.

pub fn glob_match(pattern: &[u8], s: &[u8]) -> bool {
    glob_at(pattern, s, 0)
}

fn glob_at(p: &[u8], s: &[u8], depth: usize) -> bool {
    if depth > 1000 {
        return false;
    }
    let (mut pi, mut si) = (0, 0);
    while pi < p.len() {
        match p[pi] {
            b'*' => {
                while pi + 1 < p.len() && p[pi + 1] == b'*' {
                    pi += 1;
                }
                if pi + 1 == p.len() {
                    return true;
                }
                for k in si..=s.len() {
                    if glob_at(&p[pi + 1..], &s[k..], depth + 1) {
                        return true;
                    }
                }
                return false;
            }
            b'?' => {
                if si >= s.len() {
                    return false;
                }
                si += 1;
            }
            b'[' => {
                if si >= s.len() {
                    return false;
                }
                pi += 1;
                let not = p.get(pi) == Some(&b'^');
                if not {
                    pi += 1;
                }
                let mut matched = false;
                while pi < p.len() && p[pi] != b']' {
                    if p[pi] == b'\\' && pi + 1 < p.len() {
                        pi += 1;
                        matched |= p[pi] == s[si];
                    } else if pi + 2 < p.len() && p[pi + 1] == b'-' && p[pi + 2] != b']' {
                        let (a, b) = (p[pi].min(p[pi + 2]), p[pi].max(p[pi + 2]));
                        matched |= s[si] >= a && s[si] <= b;
                        pi += 2;
                    } else {
                        matched |= p[pi] == s[si];
                    }
                    pi += 1;
                }
                if matched == not {
                    return false;
                }
                si += 1;
            }
            b'\\' if pi + 1 < p.len() => {
                pi += 1;
                if si >= s.len() || p[pi] != s[si] {
                    return false;
                }
                si += 1;
            }
            c => {
                if si >= s.len() || c != s[si] {
                    return false;
                }
                si += 1;
            }
        }
        pi += 1;
    }
    si == s.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match(b"*", b"anything"));
        assert!(glob_match(b"k*", b"key:1"));
        assert!(!glob_match(b"k*", b"akey"));
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"key:[0-9]", b"key:7"));
        assert!(glob_match(b"a\\*b", b"a*b"));
        assert!(glob_match(b"repl-*", b"repl-backlog-size"));
    }
}
