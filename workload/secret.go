package workload

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// SealedData is a secret's data, encrypted.
type SealedData struct {
	// Key names the cluster key that sealed it (the first bytes of its
	// SHA-256), so that a rotation can tell old from new.
	Key string `json:"key"`
	// Box is the nonce and the AES-256-GCM ciphertext of Data's JSON, with
	// the secret's namespace and name as additional data.
	Box []byte `json:"box"`
}

// AnnotationSealed holds, on a secret as the store keeps it, its sealed
// data (SealedData's JSON); the stored secret's data values are empty.
// Shoal sets it on every write and takes it off before answering; a user
// may not write it.
const AnnotationSealed = "shoal.dev/sealed"

// SealedOf returns the sealed data a stored secret carries, or nil.
func SealedOf(s *Secret) (*SealedData, error) {
	raw, ok := s.Annotations[AnnotationSealed]
	if !ok {
		return nil, nil
	}
	var sd SealedData
	if err := json.Unmarshal([]byte(raw), &sd); err != nil {
		return nil, fmt.Errorf("secret %s/%s: annotation %s: %w", s.Namespace, s.Name, AnnotationSealed, err)
	}
	return &sd, nil
}

// SetSealed records sealed data on a secret (nil takes it off).
func SetSealed(s *Secret, sd *SealedData) {
	if sd == nil {
		delete(s.Annotations, AnnotationSealed)
		return
	}
	b, _ := json.Marshal(sd)
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[AnnotationSealed] = string(b)
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
	if _, ok := s.Annotations[AnnotationSealed]; ok {
		errs = append(errs, field.Forbidden(field.NewPath("metadata", "annotations").Key(AnnotationSealed), "is set by Shoal, not by users"))
	}
	if _, ok := s.ObjectMeta.Annotations[AnnotationRedacted]; ok {
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
	return append(errs, validateSecretType(s)...)
}

// validateSecretType checks the keys a secret's type requires, as
// Kubernetes does once stringData is folded into data.
func validateSecretType(s *Secret) field.ErrorList {
	data := field.NewPath("data")
	has := func(k string) bool { _, ok := s.Data[k]; return ok }
	var errs field.ErrorList
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg, corev1.SecretTypeDockerConfigJson:
		key := corev1.DockerConfigKey
		if s.Type == corev1.SecretTypeDockerConfigJson {
			key = corev1.DockerConfigJsonKey
		}
		if !has(key) {
			return field.ErrorList{field.Required(data.Key(key), "")}
		}
		if err := json.Unmarshal(s.Data[key], &map[string]any{}); err != nil {
			errs = append(errs, field.Invalid(data.Key(key), "<secret contents redacted>", err.Error()))
		}
	case corev1.SecretTypeBasicAuth:
		if !has(corev1.BasicAuthUsernameKey) && !has(corev1.BasicAuthPasswordKey) {
			errs = append(errs, field.Required(data.Key(corev1.BasicAuthUsernameKey), ""),
				field.Required(data.Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			errs = append(errs, field.Required(data.Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeTLS:
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			if !has(k) {
				errs = append(errs, field.Required(data.Key(k), ""))
			}
		}
	}
	return errs
}
