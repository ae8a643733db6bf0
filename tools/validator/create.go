package main

// One document through kube-apiserver's create handler
// (k8s.io/apiserver/pkg/endpoints/handlers/create.go: createHandler), step by step: strict
// decoding into the hub version with defaulting, the namespace the request would carry, the
// system fields wiped, then the store's Create (fieldValidation=Strict), which runs the registry
// strategy's PrepareForCreate, Validate and WarningsOnCreate (rest.BeforeCreate), the store's
// BeginCreate hooks (Service allocations) and the write into the empty storage. It is a real
// create, not dryRun=All: a dry run skips the node-port range check that the create Argo CD
// then makes would fail on. Not run: admission.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/warning"
)

// typeMeta is what picks the endpoint: kubectl and Argo CD post a document to the resource its
// apiVersion and kind name.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

var servicesResource = schema.GroupVersionResource{Version: "v1", Resource: "services"}

// defaultNamespace is where kubectl sends a namespaced document that names no namespace.
const defaultNamespace = "default"

func (s *server) validate(body json.RawMessage, requestNamespace string) verdict {
	var head typeMeta
	if err := json.Unmarshal(body, &head); err != nil || head.APIVersion == "" || head.Kind == "" {
		return verdict{Reason: "BadRequest", Message: "Object 'Kind' is missing or 'apiVersion' is not set"}
	}
	gv, err := schema.ParseGroupVersion(head.APIVersion)
	if err != nil {
		return verdict{Reason: "BadRequest", Message: err.Error()}
	}
	gvk := gv.WithKind(head.Kind)
	target := s.lookup(gvk)
	if target == nil {
		return verdict{NotServed: true, Reason: "NotFound", Message: fmt.Sprintf(
			"no matches for kind %q in version %q", gvk.Kind, gv.String())}
	}
	namespace := ""
	if target.namespaced {
		namespace = head.Metadata.Namespace
		if namespace == "" {
			namespace = requestNamespace
		}
		if namespace == "" {
			namespace = defaultNamespace
		}
	}
	obj, err := target.decode(body)
	if err != nil {
		return fromError(err, nil)
	}
	return s.create(target, obj, namespace)
}

func (s *server) lookup(gvk schema.GroupVersionKind) *resource {
	if r, ok := s.taught[gvk]; ok {
		return r
	}
	return s.resources[gvk]
}

// decode is the handler's DecoderToVersion(StrictSerializer, hub).Decode with
// transformDecodeError's wording (handlers/rest.go).
func (r *resource) decode(body []byte) (runtime.Object, error) {
	if r.crd != nil {
		return r.crd.decode(body)
	}
	info, ok := runtime.SerializerInfoForMediaType(r.codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		return nil, fmt.Errorf("no JSON serializer for %v", r.gvk)
	}
	decoder := r.codecs.DecoderToVersion(info.StrictSerializer, r.hub)
	defaults := r.gvk
	obj, gvk, err := decoder.Decode(body, &defaults, r.newObject())
	if err != nil {
		return nil, decodeError(r.gvk.Kind, gvk, err)
	}
	return obj, nil
}

func decodeError(into string, gvk *schema.GroupVersionKind, err error) error {
	if gvk != nil && gvk.Kind != "" {
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, into, err))
	}
	return apierrors.NewBadRequest(fmt.Sprintf("the object provided is unrecognized (must be of type %s): %v", into, err))
}

func (s *server) create(target *resource, obj runtime.Object, namespace string) verdict {
	warnings := &recorder{}
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return fromError(apierrors.NewBadRequest(err.Error()), warnings)
	}
	rest.WipeObjectMetaSystemFields(accessor)
	if err := rest.EnsureObjectNamespaceMatchesRequestNamespace(rest.ExpectedNamespaceForResource(namespace, target.gvr), accessor); err != nil {
		return fromError(err, warnings)
	}
	ctx := request.WithNamespace(context.Background(), namespace)
	ctx = request.WithUser(ctx, &user.DefaultInfo{
		Name: "gitops-validator", Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated},
	})
	ctx = request.WithRequestInfo(ctx, &request.RequestInfo{
		IsResourceRequest: true, Verb: "create", APIPrefix: "apis", APIGroup: target.gvr.Group,
		APIVersion: target.gvr.Version, Resource: target.gvr.Resource, Namespace: namespace,
		Name: accessor.GetName(),
	})
	ctx = warning.WithWarningRecorder(ctx, warnings)
	if target.gvr == servicesResource {
		if err := s.core.awaitAllocator(obj); err != nil {
			return fromError(err, warnings)
		}
	}
	options := &metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}
	created, err := target.creater.Create(ctx, obj, nil, options)
	if err != nil {
		return fromError(err, warnings)
	}
	if target.gvr == servicesResource {
		if err := s.core.release(created); err != nil {
			return fromError(err, warnings)
		}
	}
	return verdict{Allowed: true, Warnings: warnings.list()}
}

// fromError turns the API server's error into the Status it would send.
func fromError(err error, warnings *recorder) verdict {
	out := verdict{Allowed: false}
	if warnings != nil {
		out.Warnings = warnings.list()
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		out.Reason = string(metav1.StatusReasonInternalError)
		out.Message = err.Error()
		return out
	}
	st := status.Status()
	out.Reason = string(st.Reason)
	out.Message = st.Message
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			out.Causes = append(out.Causes, cause{Field: c.Field, Type: string(c.Type), Message: c.Message})
		}
	}
	return out
}

// recorder collects the warnings a create sends back (the handler's Warning headers).
type recorder struct {
	mu    sync.Mutex
	texts []string
}

func (r *recorder) AddWarning(_, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, seen := range r.texts {
		if seen == text {
			return
		}
	}
	r.texts = append(r.texts, text)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.texts...)
}
