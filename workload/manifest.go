package workload

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/shoalproject/shoal/internal/errdefs"
)

// Document is one object decoded from a manifest.
type Document struct {
	// Index is the 1-based number of the document in the file. Every item
	// of a kind: List shares its list's Index.
	Index int
	// Item is the object's position in its List's items (0-based, as in
	// the field path items[Item]), or -1 for an object that is a document.
	Item   int
	Object Object
	Info   KindInfo
}

// DocumentError is why one document, or one item of a List, failed.
// Its text is "<source>: document <n>: [items[<i>]: ][<kind>/<name>: ]<field path>: <message>".
type DocumentError struct {
	Source   string // file name, "-" for stdin
	Document int    // 1-based
	Item     int    // index into a List's items, or -1
	Object   string // "deployment/web" when the document says its kind and name
	Err      error  // wraps errdefs.ErrInvalid or errdefs.ErrTooLarge
}

func (e *DocumentError) Error() string {
	where := fmt.Sprintf("%s: document %d: ", e.Source, e.Document)
	if e.Item >= 0 {
		where += fmt.Sprintf("items[%d]: ", e.Item)
	}
	if e.Object != "" {
		where += e.Object + ": "
	}
	return where + e.Err.Error()
}

// objectOf is "kind/name" of a decoded document, "" unless both are
// strings.
func objectOf(m map[string]any) string {
	kind, _ := m["kind"].(string)
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if kind == "" || name == "" {
		return ""
	}
	return strings.ToLower(kind) + "/" + name
}

func (e *DocumentError) Unwrap() error { return e.Err }

// Decode parses a manifest of one or more YAML documents separated by "---"
// lines, or a stream of JSON objects, into typed, validated objects. A
// document of kind List contributes each of its items. Empty documents are
// skipped but keep their number.
//
// Decoding is strict: unknown fields, values of the wrong type, a missing or
// unknown kind or apiVersion, an object over MaxObjectBytes of JSON, and any
// violation Validate reports are errors. Decode returns either every document
// or no document and all the errors, joined one per line, each a
// *DocumentError. source names the input in errors ("-" for stdin).
func Decode(source string, data []byte) ([]Document, error) {
	chunks, ok := splitJSON(data)
	if !ok {
		chunks = splitYAML(data)
	}
	var docs []Document
	var errs []error
	for _, c := range chunks {
		got, derrs := decodeDocument(source, c)
		docs = append(docs, got...)
		errs = append(errs, derrs...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return docs, nil
}

// chunk is one document's bytes and its 1-based number.
type chunk struct {
	index int
	data  []byte
}

// splitJSON reads data as a stream of JSON values. It reports false when
// data is not entirely such a stream, and the caller reads it as YAML.
func splitJSON(data []byte) ([]chunk, bool) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var chunks []chunk
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return chunks, true
		} else if err != nil {
			return nil, false
		}
		chunks = append(chunks, chunk{index: len(chunks) + 1, data: raw})
	}
}

// splitYAML cuts data at lines that start with "---" followed by nothing
// but an optional comment, as Kubernetes' YAML reader does. A leading
// separator does not start a counted empty document.
func splitYAML(data []byte) []chunk {
	var chunks []chunk
	var cur bytes.Buffer
	sawContent := false
	flush := func() {
		if len(chunks) == 0 && !sawContent && !hasContent(cur.Bytes()) {
			cur.Reset()
			sawContent = true // a leading "---" opens document 1
			return
		}
		sawContent = true
		chunks = append(chunks, chunk{index: len(chunks) + 1, data: bytes.Clone(cur.Bytes())})
		cur.Reset()
	}
	r := bufio.NewReader(bytes.NewReader(data))
	for {
		line, err := r.ReadBytes('\n')
		if isSeparator(line) {
			flush()
		} else {
			cur.Write(line)
		}
		if err != nil {
			break
		}
	}
	flush()
	return chunks
}

func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || rest[0] == '#'
}

// hasContent reports whether YAML text holds more than blanks and comments.
func hasContent(b []byte) bool {
	for line := range bytes.Lines(b) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' {
			return true
		}
	}
	return false
}

// decodeDocument turns one document into its objects, or into errors.
func decodeDocument(source string, c chunk) ([]Document, []error) {
	var object string // once known
	fail := func(item int, err error) *DocumentError {
		return &DocumentError{Source: source, Document: c.index, Item: item, Object: object, Err: err}
	}
	js, err := yaml.YAMLToJSONStrict(c.data)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
		return nil, []error{fail(-1, &problem{msg: msg, cause: errdefs.ErrInvalid})}
	}
	if js = bytes.TrimSpace(js); bytes.Equal(js, []byte("null")) {
		return nil, nil // an empty document
	}
	if len(js) > MaxObjectBytes {
		msg := fmt.Sprintf("Too long: object is %d bytes of JSON, may not be more than %d bytes", len(js), MaxObjectBytes)
		return nil, []error{fail(-1, &problem{msg: msg, cause: errdefs.ErrTooLarge})}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, []error{fail(-1, &problem{msg: err.Error(), cause: errdefs.ErrInvalid})}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, []error{fail(-1, invalid(nil, "expected an object, got %s", jsonType(v)))}
	}

	if kind, _ := m["kind"].(string); kind != "List" {
		object = objectOf(m)
		doc, errs := decodeObject(m)
		if len(errs) > 0 {
			out := make([]error, len(errs))
			for i, e := range errs {
				out[i] = fail(-1, e)
			}
			return nil, out
		}
		doc.Index, doc.Item = c.index, -1
		return []Document{doc}, nil
	}

	items, errs := listItems(m)
	var out []error
	for _, e := range errs {
		out = append(out, fail(-1, e))
	}
	var docs []Document
	for i, item := range items {
		im, ok := item.(map[string]any)
		if !ok {
			out = append(out, fail(i, invalid(nil, "expected an object, got %s", jsonType(item))))
			continue
		}
		if kind, _ := im["kind"].(string); kind == "List" {
			out = append(out, fail(i, invalid(field.NewPath("kind"), "Invalid value: %q: a List may not contain a List", kind)))
			continue
		}
		object = objectOf(im)
		doc, errs := decodeObject(im)
		for _, e := range errs {
			out = append(out, fail(i, e))
		}
		object = ""
		doc.Index, doc.Item = c.index, i
		docs = append(docs, doc)
	}
	if len(out) > 0 {
		return nil, out
	}
	return docs, nil
}

// listItems checks the envelope of a kind: List and returns its items.
func listItems(m map[string]any) ([]any, []error) {
	var errs []error
	if av, ok := m["apiVersion"].(string); !ok || av != "v1" {
		errs = append(errs, apiVersionError(m["apiVersion"], "v1"))
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "apiVersion", "kind", "items":
		case "metadata":
			if _, ok := m[k].(map[string]any); !ok && m[k] != nil {
				errs = append(errs, invalid(field.NewPath(k), "expected object, got %s", jsonType(m[k])))
			}
		default:
			errs = append(errs, invalid(field.NewPath(k), "unknown field"))
		}
	}
	items, ok := m["items"].([]any)
	if !ok && m["items"] != nil {
		errs = append(errs, invalid(field.NewPath("items"), "expected array, got %s", jsonType(m["items"])))
	}
	return items, errs
}

// decodeObject resolves the kind of one object, checks its shape against the
// kind's type, decodes it and validates it.
func decodeObject(m map[string]any) (Document, []error) {
	var errs []error
	apiVersion, avOK := stringField(m, "apiVersion", &errs)
	kind, kindOK := stringField(m, "kind", &errs)
	if !avOK || !kindOK {
		return Document{}, errs
	}
	info, ok := lookupServed(kind)
	if !ok || info.Kind != kind {
		return Document{}, []error{kindError(kind)}
	}
	if apiVersion != info.APIVersion {
		return Document{}, []error{apiVersionError(apiVersion, info.APIVersion)}
	}

	obj := info.New()
	if errs := checkShape(m, reflect.TypeOf(obj).Elem(), nil); len(errs) > 0 {
		return Document{}, errs
	}
	// The shape check has vetted every field, so this decode only fails on
	// something it does not model; report that rather than hide it.
	js, err := json.Marshal(m)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		err = dec.Decode(obj)
	}
	if err != nil {
		return Document{}, []error{&problem{msg: err.Error(), cause: errdefs.ErrInvalid}}
	}
	if errs := Validate(obj, info); len(errs) > 0 {
		return Document{}, errs
	}
	return Document{Object: obj, Info: info}, nil
}

// stringField reads a required string field of the top level.
func stringField(m map[string]any, name string, errs *[]error) (string, bool) {
	path := field.NewPath(name)
	v, present := m[name]
	if !present || v == nil || v == "" {
		*errs = append(*errs, &problem{msg: field.Required(path, "").Error(), cause: errdefs.ErrInvalid})
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		*errs = append(*errs, invalid(path, "expected string, got %s", jsonType(v)))
		return "", false
	}
	return s, true
}

func kindError(kind string) error {
	path := field.NewPath("kind")
	if canonical, ok := lookupNotServed(kind); ok {
		return &problem{msg: field.Invalid(path, kind, notServedMessage(kind, canonical)).Error(), cause: errdefs.ErrInvalid}
	}
	supported := make([]string, len(served))
	for i, info := range served {
		supported[i] = info.Kind
	}
	return &problem{msg: field.NotSupported(path, kind, supported).Error(), cause: errdefs.ErrInvalid}
}

func apiVersionError(got any, want string) error {
	path := field.NewPath("apiVersion")
	if got == nil || got == "" {
		return &problem{msg: field.Required(path, "").Error(), cause: errdefs.ErrInvalid}
	}
	return &problem{msg: field.NotSupported(path, got, []string{want}).Error(), cause: errdefs.ErrInvalid}
}

// invalid is a shape error at path: "path: message", or just the message at
// the top level.
func invalid(path *field.Path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != nil {
		msg = path.String() + ": " + msg
	}
	return &problem{msg: msg, cause: errdefs.ErrInvalid}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	metaTimeType    = reflect.TypeFor[Time]()
	quantityType    = reflect.TypeFor[Quantity]()
	intOrStringType = reflect.TypeFor[IntOrString]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// checkShape walks a generic JSON value against the Go type it will decode
// into and reports, by field path, every unknown field and every value of
// the wrong JSON type. encoding/json would stop at the first and name
// neither path nor field.
func checkShape(v any, t reflect.Type, path *field.Path) []error {
	if v == nil {
		return nil // null leaves the zero value, as encoding/json does
	}
	if t.Kind() == reflect.Pointer {
		return checkShape(v, t.Elem(), path)
	}
	switch t {
	case quantityType:
		switch v.(type) {
		case string, json.Number:
		default:
			return []error{invalid(path, "expected string or number, got %s", jsonType(v))}
		}
	case intOrStringType:
		switch n := v.(type) {
		case string:
			return nil
		case json.Number:
			if i, err := n.Int64(); err != nil || i != int64(int32(i)) {
				return []error{invalid(path, "Invalid value: %s: must be a 32-bit integer or a string", n)}
			}
			return nil
		default:
			raw, _ := json.Marshal(v)
			return []error{invalid(path, "Invalid value: %s: expected integer or string, got %s", raw, jsonType(v))}
		}
	}
	if t == timeType || t == metaTimeType {
		s, ok := v.(string)
		if !ok {
			return []error{invalid(path, "expected string, got %s", jsonType(v))}
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return []error{invalid(path, "Invalid value: %q: must be an RFC 3339 time", s)}
		}
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		// A type that decodes itself (Quantity, IntOrString) is opaque
		// here: let it decode now, so that its error names the field.
		raw, err := json.Marshal(v)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw)
		}
		if err == nil {
			return nil
		}
		if _, composite := v.(map[string]any); composite {
			return []error{invalid(path, "%v", err)}
		}
		if _, composite := v.([]any); composite {
			return []error{invalid(path, "%v", err)}
		}
		return []error{invalid(path, "Invalid value: %s: %v", raw, err)}
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return []error{invalid(path, "expected object, got %s", jsonType(v))}
		}
		fields := jsonFields(t)
		var errs []error
		for _, k := range sortedKeys(m) {
			p := child(path, k)
			ft, known := fields[k]
			if !known {
				errs = append(errs, invalid(p, "unknown field"))
				continue
			}
			errs = append(errs, checkShape(m[k], ft, p)...)
		}
		return errs
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return []error{invalid(path, "expected object, got %s", jsonType(v))}
		}
		var errs []error
		for _, k := range sortedKeys(m) {
			errs = append(errs, checkShape(m[k], t.Elem(), path.Key(k))...)
		}
		return errs
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			s, ok := v.(string)
			if !ok {
				return []error{invalid(path, "expected base64 string, got %s", jsonType(v))}
			}
			if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				return []error{invalid(path, "expected base64 string: %v", err)}
			}
			return nil
		}
		a, ok := v.([]any)
		if !ok {
			return []error{invalid(path, "expected array, got %s", jsonType(v))}
		}
		var errs []error
		for i, e := range a {
			errs = append(errs, checkShape(e, t.Elem(), path.Index(i))...)
		}
		return errs
	case reflect.String:
		if _, ok := v.(string); !ok {
			return []error{invalid(path, "expected string, got %s", jsonType(v))}
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return []error{invalid(path, "expected boolean, got %s", jsonType(v))}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return []error{invalid(path, "expected integer, got %s", jsonType(v))}
		}
		i, err := n.Int64()
		if err != nil {
			return []error{invalid(path, "Invalid value: %s: expected integer", n)}
		}
		if reflect.New(t).Elem().OverflowInt(i) {
			return []error{invalid(path, "Invalid value: %s: out of range for %s", n, t.Kind())}
		}
	}
	return nil
}

// jsonFields maps the JSON names of a struct's fields, inline embedded
// structs included, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func child(path *field.Path, name string) *field.Path {
	if path == nil {
		return field.NewPath(name)
	}
	return path.Child(name)
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}
