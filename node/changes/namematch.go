package changes

import "strings"

// Binding schema and table names match published tables the way upstream's subscription insert
// does (extensions/postgres_cdc_rls/subscriptions.ex, create/5: `pub.schemaname like (case $2
// when '*' then '%' else $2 end) escape ''`): "*" is every name, and otherwise the name is a SQL
// LIKE pattern with no escape character, so `%` matches any run of characters and `_` any one.
// As upstream, a pattern is resolved against the publication when the channel subscribes; only
// "*" also covers tables published later.

// nameMatches reports whether name matches the binding's pattern.
func nameMatches(pattern, name string) bool {
	if pattern == "*" {
		return true
	}
	return likeMatch(pattern, name)
}

// isNamePattern reports whether a binding name needs resolving against the publication (it has
// LIKE wildcards) rather than matching one name exactly or, as "*", every name.
func isNamePattern(name string) bool { return name != "*" && strings.ContainsAny(name, "%_") }

// likeMatch is SQL LIKE with no escape character, on bytes (names are compared as Postgres
// stores them; `_` matches one byte here, one character there: they differ only for multi-byte
// names that a single `_` straddles).
func likeMatch(pattern, s string) bool {
	// Iterative matcher with one backtrack point (the last %), linear in practice.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '%':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '_' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '%' {
		p++
	}
	return p == len(pattern)
}
