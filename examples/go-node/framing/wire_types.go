package framing

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxDepth is the nesting limit, counting Frame as 1 and each message or
// group inside one more: the TypeScript codec's (protobuf-es recursion
// limit 100). With it, 99 nested unknown groups directly in a Frame decode
// and 100 do not (Go's protowire alone would accept 10 000).
const maxDepth = 100

// CheckWireTypes walks the protobuf encoding b of a message of type md and
// fails when a field known to md arrives with a wire type its declared type
// cannot have (e.g. Frame.hello as a varint). Unknown fields are skipped.
//
// Go's protobuf runtime would keep such a field as an unknown field (so
// "10 05" would be an EMPTY_FRAME), while the TypeScript codec reads it with
// the declared type and fails or misreads it. hb treats it as
// MALFORMED_FRAME, the only reading all implementations can agree on.
func CheckWireTypes(b []byte, md protoreflect.MessageDescriptor) error {
	return checkWireTypes(b, md, 1)
}

func checkWireTypes(b []byte, md protoreflect.MessageDescriptor, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nesting deeper than %d", maxDepth)
	}
	fields := md.Fields()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		fd := fields.ByNumber(num)
		if fd == nil {
			m, err := skipField(num, typ, b, depth)
			if err != nil {
				return err
			}
			b = b[m:]
			continue
		}
		if !wireTypeFits(fd, typ) {
			return fmt.Errorf("field %s (number %d) has wire type %d", fd.Name(), num, typ)
		}
		m, err := skipField(num, typ, b, depth)
		if err != nil {
			return err
		}
		if typ == protowire.BytesType && (fd.Kind() == protoreflect.MessageKind || fd.IsMap()) {
			v, _ := protowire.ConsumeBytes(b)
			if err := checkWireTypes(v, fd.Message(), depth+1); err != nil {
				return fmt.Errorf("%s: %w", fd.Name(), err)
			}
		}
		b = b[m:]
	}
	return nil
}

// skipField returns the length of the value of field num (wire type typ) at
// the start of b, checking groups are balanced and nested at most maxDepth.
func skipField(num protowire.Number, typ protowire.Type, b []byte, depth int) (int, error) {
	if typ != protowire.StartGroupType {
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return 0, protowire.ParseError(m)
		}
		return m, nil
	}
	if depth+1 > maxDepth {
		return 0, fmt.Errorf("nesting deeper than %d", maxDepth)
	}
	n := 0
	for {
		gnum, gtyp, k := protowire.ConsumeTag(b[n:])
		if k < 0 {
			return 0, protowire.ParseError(k)
		}
		n += k
		if gtyp == protowire.EndGroupType {
			if gnum != num {
				return 0, fmt.Errorf("end group %d does not match start group %d", gnum, num)
			}
			return n, nil
		}
		m, err := skipField(gnum, gtyp, b[n:], depth+1)
		if err != nil {
			return 0, err
		}
		n += m
	}
}

func wireTypeFits(fd protoreflect.FieldDescriptor, typ protowire.Type) bool {
	var want protowire.Type
	switch fd.Kind() {
	case protoreflect.BoolKind, protoreflect.EnumKind,
		protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Uint32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		want = protowire.VarintType
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		want = protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		want = protowire.Fixed64Type
	case protoreflect.GroupKind:
		want = protowire.StartGroupType
	default: // string, bytes, message (maps are repeated messages)
		want = protowire.BytesType
	}
	if typ == want {
		return true
	}
	// Repeated scalars may come packed (one length-delimited record).
	return fd.IsList() && typ == protowire.BytesType && want != protowire.BytesType && want != protowire.StartGroupType
}
