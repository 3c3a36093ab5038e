package workload

import (
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Secret (v1) holds values pods use (passwords, keys) without them being
// stored or shown in the clear: the store keeps Data sealed (Sealed, with
// Data's values emptied), the API shows it redacted unless asked to reveal
// it, and only the peer running a pod that uses it opens it.
type Secret struct {
	TypeMeta `json:",inline"`
	Metadata ObjectMeta `json:"metadata"`
	Type     SecretType `json:"type,omitempty"`
	// Data is the values, base64 in JSON and YAML.
	Data map[string][]byte `json:"data,omitempty"`
	// StringData is written into Data on every write and never stored or
	// shown: values in the clear, for manifests.
	StringData map[string]string `json:"stringData,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
	// Sealed is Data, encrypted with the cluster's key (AES-256-GCM); set
	// by Shoal on every write, never by users.
	Sealed *SealedData `json:"sealed,omitempty"`
}

// GetMeta returns the secret's metadata.
func (s *Secret) GetMeta() *ObjectMeta { return &s.Metadata }

// SecretType is what a secret holds.
type SecretType string

// SecretTypeOpaque is arbitrary user data, the default.
const SecretTypeOpaque SecretType = "Opaque"

// SealedData is a secret's data, encrypted.
type SealedData struct {
	// Key names the cluster key that sealed it (the first bytes of its
	// SHA-256), so that a rotation can tell old from new.
	Key string `json:"key"`
	// Box is the nonce and the AES-256-GCM ciphertext of Data's JSON, with
	// the secret's namespace and name as additional data.
	Box []byte `json:"box"`
}

// AnnotationRedacted marks a secret the API answered with its values
// emptied.
const AnnotationRedacted = "shoal.dev/redacted"

func defaultSecret(s *Secret) {
	if s.Type == "" {
		s.Type = SecretTypeOpaque
	}
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
}

// validateSecret checks a secret as a user wrote it. Its errors name keys,
// never values.
func validateSecret(s *Secret) field.ErrorList {
	var errs field.ErrorList
	if s.Sealed != nil {
		errs = append(errs, field.Forbidden(field.NewPath("sealed"), "is set by Shoal, not by users"))
	}
	if _, ok := s.Metadata.Annotations[AnnotationRedacted]; ok {
		// A copy from `get -o yaml`: writing it back would empty every value.
		errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(AnnotationRedacted),
			"this is a redacted copy of a secret, its values emptied; write back one from `shoal get secret NAME -o yaml --reveal`"))
	}
	size := 0
	for _, part := range []struct {
		path *field.Path
		keys []string
	}{{field.NewPath("data"), sortedKeys(s.Data)}, {field.NewPath("stringData"), sortedKeys(s.StringData)}} {
		for _, k := range part.keys {
			for _, msg := range validation.IsConfigMapKey(k) {
				errs = append(errs, field.Invalid(part.path.Key(k), k, msg))
			}
			size += len(s.Data[k]) + len(s.StringData[k])
		}
	}
	if size > MaxConfigMapDataBytes {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", MaxConfigMapDataBytes))
	}
	return errs
}
