package cluster

import "testing"

// TestMessageTypesUnique: two features sharing a type byte would each receive the other's
// messages; every registered type is distinct and above the mesh's own range.
func TestMessageTypesUnique(t *testing.T) {
	byType := map[byte]string{}
	for name, typ := range messageTypes {
		if typ < FirstUserType {
			t.Errorf("%s: type %d is in the mesh's reserved range", name, typ)
		}
		if other, dup := byType[typ]; dup {
			t.Errorf("type %d registered twice: %s and %s", typ, other, name)
		}
		byType[typ] = name
	}
	if len(messageTypes) != int(TypeRTT-FirstUserType)+1 {
		t.Errorf("%d registered types, want every constant from %d to %d listed", len(messageTypes), FirstUserType, TypeRTT)
	}
}

func TestHandleRefusesSecondHandler(t *testing.T) {
	m := &Mesh{}
	m.Handle(TypeBroadcast, func(Member, []byte) {})
	defer func() {
		if recover() == nil {
			t.Error("a second handler for the same type was accepted")
		}
	}()
	m.Handle(TypeBroadcast, func(Member, []byte) {})
}
