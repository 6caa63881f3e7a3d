package changes

// kind says how a Postgres value's text form becomes JSON, following to_jsonb (which Supabase's
// realtime.cast applies to every column value).
type kind uint8

const (
	kString      kind = iota // JSON string of the text form
	kNumber                  // int2/4/8, oid, float4/8, numeric: a JSON number (NaN/Infinity → string)
	kBool                    // t/f → true/false
	kJSON                    // json, jsonb: embedded as is
	kTimestamp               // "YYYY-MM-DD HH:MM:SS" → "YYYY-MM-DDTHH:MM:SS"
	kTimestamptz             // as timestamp plus "+HH:MM" offset
	kBytea                   // "\x0102" → "0102" (hex without prefix, as wal2json gives it)
	kArray                   // Postgres array literal → JSON array of the element kind
)

// typeInfo describes a column type: its typname (columns[].type) and how to encode values.
type typeInfo struct {
	oid   uint32
	name  string
	kind  kind
	elem  *typeInfo // arrays only
	delim byte      // arrays only: the element type's typdelim
}

// builtinTypes covers the common built-in types so most tables never need a catalog lookup.
// Everything else (enums, domains, extension types, their arrays) is read from pg_type.
var builtinTypes = map[uint32]*typeInfo{}

func init() {
	scalars := []struct {
		oid  uint32
		name string
		k    kind
	}{
		{16, "bool", kBool}, {17, "bytea", kBytea}, {18, "char", kString}, {19, "name", kString},
		{20, "int8", kNumber}, {21, "int2", kNumber}, {23, "int4", kNumber}, {25, "text", kString},
		{26, "oid", kNumber}, {114, "json", kJSON}, {142, "xml", kString}, {650, "cidr", kString},
		{700, "float4", kNumber}, {701, "float8", kNumber}, {790, "money", kString},
		{829, "macaddr", kString}, {869, "inet", kString}, {1042, "bpchar", kString},
		{1043, "varchar", kString}, {1082, "date", kString}, {1083, "time", kString},
		{1114, "timestamp", kTimestamp}, {1184, "timestamptz", kTimestamptz},
		{1186, "interval", kString}, {1266, "timetz", kString}, {1560, "bit", kString},
		{1562, "varbit", kString}, {1700, "numeric", kNumber}, {2950, "uuid", kString},
		{3802, "jsonb", kJSON}, {3614, "tsvector", kString},
	}
	for _, s := range scalars {
		builtinTypes[s.oid] = &typeInfo{oid: s.oid, name: s.name, kind: s.k}
	}
	arrays := []struct{ oid, elem uint32 }{
		{1000, 16}, {1001, 17}, {1002, 18}, {1003, 19}, {1016, 20}, {1005, 21}, {1007, 23},
		{1009, 25}, {1028, 26}, {199, 114}, {143, 142}, {651, 650}, {1021, 700}, {1022, 701},
		{791, 790}, {1040, 829}, {1041, 869}, {1014, 1042}, {1015, 1043}, {1182, 1082},
		{1183, 1083}, {1115, 1114}, {1185, 1184}, {1187, 1186}, {1270, 1266}, {1561, 1560},
		{1563, 1562}, {1231, 1700}, {2951, 2950}, {3807, 3802}, {3643, 3614},
	}
	for _, a := range arrays {
		e := builtinTypes[a.elem]
		builtinTypes[a.oid] = &typeInfo{oid: a.oid, name: "_" + e.name, kind: kArray, elem: e, delim: ','}
	}
}

// kindForBase maps a (domain base) type OID to its kind; unknown scalars are strings.
func kindForBase(oid uint32) kind {
	if t, ok := builtinTypes[oid]; ok && t.kind != kArray {
		return t.kind
	}
	return kString
}
