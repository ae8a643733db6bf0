package main

// Custom resources, as apiextensions-apiserver serves them
// (k8s.io/apiextensions-apiserver/pkg/apiserver/customresource_handler.go): per served version
// of a CRD, the structural schema with its defaults, the schema and CEL validators, the
// customresource strategy and store; decoding prunes unknown fields, which strict field
// validation reports as errors, coerces metadata and applies the schema's defaults. The handler
// wires these through unexported types, so the steps are followed here one by one with its own
// exported building blocks.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/crdserverscheme"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/managedfields"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// crdVersion decodes documents of one served version of a CRD.
type crdVersion struct {
	kind                  schema.GroupVersionKind
	structural            *structuralschema.Structural
	preserveUnknownFields bool
	serializer            runtime.Decoder
}

// learn validates a CustomResourceDefinition as its create would, then serves its custom
// resources. Re-teaching a CRD replaces the kinds it served.
func (s *server) learn(body json.RawMessage) verdict {
	v := s.validate(body, "")
	if !v.Allowed {
		return v
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	decoder := apiextensionsapiserver.Codecs.UniversalDecoder(apiextensionsv1.SchemeGroupVersion)
	if _, _, err := decoder.Decode(body, nil, crd); err != nil {
		return verdict{Reason: "BadRequest", Message: fmt.Sprintf("not a CustomResourceDefinition: %v", err)}
	}
	resources, err := s.customResources(crd)
	if err != nil {
		return verdict{Reason: "InternalError", Message: fmt.Sprintf("CustomResourceDefinition %s: %v", crd.Name, err)}
	}
	taughtKind := schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
	for gvk := range s.taught {
		if gvk.GroupKind() == taughtKind {
			delete(s.taught, gvk)
		}
	}
	for _, r := range resources {
		s.taught[r.gvk] = r
	}
	return v
}

// customResources builds the stores getOrCreateServingInfoFor builds. The CRD's accepted names
// are its spec names, as the naming controller sets them when nothing conflicts. Long because
// it follows that function's steps in order.
func (s *server) customResources(crd *apiextensionsv1.CustomResourceDefinition) ([]*resource, error) {
	names := crd.Spec.Names
	typer := crdserverscheme.NewUnstructuredObjectTyper()
	var out []*resource
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		structural, validation, err := versionSchemas(crd, v.Name)
		if err != nil {
			return nil, err
		}
		validator, _, err := apiservervalidation.NewSchemaValidator(validation)
		if err != nil {
			return nil, err
		}
		subresources, err := apiextensionshelpers.GetSubresourcesForVersion(crd, v.Name)
		if err != nil {
			return nil, err
		}
		statusSpec, statusValidator, scaleSpec, err := subresourceSpecs(subresources, validation)
		if err != nil {
			return nil, err
		}
		kind := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: names.Kind}
		gvr := schema.GroupVersionResource{Group: crd.Spec.Group, Version: v.Name, Resource: names.Plural}
		namespaced := crd.Spec.Scope == apiextensionsv1.NamespaceScoped
		strategy := customresource.NewStrategy(typer, namespaced, kind, validator, statusValidator, structural,
			statusSpec, scaleSpec, v.SelectableFields)
		// The store requires a table convertor; printing columns do not affect a create.
		table, err := tableconvertor.New(v.AdditionalPrinterColumns)
		if err != nil {
			return nil, err
		}
		storage, err := customresource.NewStorage(gvr.GroupResource(),
			schema.GroupResource{Group: crd.Spec.Group, Resource: names.Singular}, kind,
			kind.GroupVersion().WithKind(names.ListKind), strategy,
			restOptions{codec: unstructured.UnstructuredJSONScheme}, names.Categories, table,
			managedfields.ResourcePathMappings{})
		if err != nil {
			return nil, err
		}
		out = append(out, &resource{
			gvk: kind, gvr: gvr, namespaced: namespaced, creater: storage.CustomResource,
			newObject: func() runtime.Object {
				u := &unstructured.Unstructured{}
				u.SetGroupVersionKind(kind)
				return u
			},
			hub: kind.GroupVersion(),
			crd: &crdVersion{
				kind: kind, structural: structural, preserveUnknownFields: crd.Spec.PreserveUnknownFields,
				serializer: kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, unstructuredCreator{}, typer,
					kjson.SerializerOptions{Strict: true}),
			},
		})
	}
	return out, nil
}

// versionSchemas is the structural schema (defaults pruned) and the validation schema of one
// version, as the handler derives them.
func versionSchemas(crd *apiextensionsv1.CustomResourceDefinition, version string) (*structuralschema.Structural, *apiextensionsinternal.JSONSchemaProps, error) {
	val, err := apiextensionshelpers.GetSchemaForVersion(crd, version)
	if err != nil || val == nil {
		return nil, nil, err
	}
	internal := &apiextensionsinternal.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
		return nil, nil, err
	}
	structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if crd.Spec.PreserveUnknownFields {
		return structural, internal.OpenAPIV3Schema, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("schema of %s is not structural: %v", version, err)
	}
	structural = structural.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(structural); err != nil {
		return nil, nil, err
	}
	return structural, internal.OpenAPIV3Schema, nil
}

func subresourceSpecs(subresources *apiextensionsv1.CustomResourceSubresources, validation *apiextensionsinternal.JSONSchemaProps) (
	*apiextensionsinternal.CustomResourceSubresourceStatus, apiservervalidation.SchemaValidator,
	*apiextensionsinternal.CustomResourceSubresourceScale, error) {
	var status *apiextensionsinternal.CustomResourceSubresourceStatus
	var statusValidator apiservervalidation.SchemaValidator
	var scale *apiextensionsinternal.CustomResourceSubresourceScale
	if subresources == nil {
		return nil, nil, nil, nil
	}
	if subresources.Status != nil {
		status = &apiextensionsinternal.CustomResourceSubresourceStatus{}
		if err := apiextensionsv1.Convert_v1_CustomResourceSubresourceStatus_To_apiextensions_CustomResourceSubresourceStatus(subresources.Status, status, nil); err != nil {
			return nil, nil, nil, err
		}
		if validation != nil && validation.Properties != nil {
			if statusSchema, ok := validation.Properties["status"]; ok {
				var err error
				if statusValidator, _, err = apiservervalidation.NewSchemaValidator(&statusSchema); err != nil {
					return nil, nil, nil, err
				}
			}
		}
	}
	if subresources.Scale != nil {
		scale = &apiextensionsinternal.CustomResourceSubresourceScale{}
		if err := apiextensionsv1.Convert_v1_CustomResourceSubresourceScale_To_apiextensions_CustomResourceSubresourceScale(subresources.Scale, scale, nil); err != nil {
			return nil, nil, nil, err
		}
	}
	return status, statusValidator, scale, nil
}

// decode is schemaCoercingDecoder.Decode with returnUnknownFieldPaths (strict), then
// unstructuredDefaulter.Default.
func (c *crdVersion) decode(body []byte) (runtime.Object, error) {
	defaults := c.kind
	obj, gvk, err := c.serializer.Decode(body, &defaults, nil)
	var strictErrs []error
	if err != nil {
		strict, ok := runtime.AsStrictDecodingError(err)
		if !ok || obj == nil {
			return nil, decodeError(c.kind.Kind, gvk, err)
		}
		strictErrs = strict.Errors()
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, decodeError(c.kind.Kind, gvk, fmt.Errorf("not an object"))
	}
	unknown, err := c.coerce(u)
	if err != nil {
		return nil, decodeError(c.kind.Kind, gvk, err)
	}
	for _, path := range unknown {
		strictErrs = append(strictErrs, fmt.Errorf(`unknown field "%s"`, path))
	}
	if len(strictErrs) > 0 {
		return nil, decodeError(c.kind.Kind, gvk, runtime.NewStrictDecodingError(strictErrs))
	}
	if c.structural != nil {
		structuraldefaulting.Default(u.Object, c.structural)
	}
	return u, nil
}

// coerce is unstructuredSchemaCoercer.apply for a document of this kind, reporting the paths
// of unknown fields.
func (c *crdVersion) coerce(u *unstructured.Unstructured) ([]string, error) {
	kind, foundKind, err := unstructured.NestedString(u.Object, "kind")
	if err != nil {
		return nil, err
	}
	apiVersion, foundAPIVersion, err := unstructured.NestedString(u.Object, "apiVersion")
	if err != nil {
		return nil, err
	}
	objectMeta, foundObjectMeta, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object,
		schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return nil, err
	}
	if !c.preserveUnknownFields && c.structural != nil {
		unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, c.structural, true,
			structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
		structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, c.structural)
	}
	coerceErr, paths := schemaobjectmeta.CoerceWithOptions(nil, u.Object, c.structural, false,
		schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if coerceErr != nil {
		return nil, coerceErr
	}
	unknown = append(unknown, paths...)
	if foundKind {
		u.SetKind(kind)
	}
	if foundAPIVersion {
		u.SetAPIVersion(apiVersion)
	}
	if foundObjectMeta {
		if err := schemaobjectmeta.SetObjectMeta(u.Object, objectMeta); err != nil {
			return nil, err
		}
	}
	return unknown, nil
}

type unstructuredCreator struct{}

func (unstructuredCreator) New(kind schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(kind)
	return u, nil
}

// learnFile learns every CustomResourceDefinition of a YAML (or JSON) file, in order, each
// document read as kubectl reads a manifest (k8s.io/apimachinery's YAML splitter, then
// sigs.k8s.io/yaml's conversion to JSON). The verdict is the first document's refusal, named by
// its position in the file ("document 1: ..."), or allowed.
func (s *server) learnFile(path string) verdict {
	data, err := os.ReadFile(path)
	if err != nil {
		return verdict{Reason: "BadRequest", Message: fmt.Sprintf("cannot read CRD file: %v", err)}
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	learnt := verdict{Allowed: true}
	for number := 0; ; number++ {
		document, err := reader.Read()
		if err == io.EOF {
			return learnt
		}
		if err != nil {
			return verdict{Reason: "BadRequest", Message: fmt.Sprintf("document %d: %v", number, err)}
		}
		body, err := utilyaml.ToJSON(document)
		if err != nil {
			return verdict{Reason: "BadRequest", Message: fmt.Sprintf("document %d: %v", number, err)}
		}
		if len(bytes.TrimSpace(body)) == 0 || bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
			continue // an empty document (a leading or trailing ---)
		}
		v := s.learn(body)
		if !v.Allowed {
			v.Message = fmt.Sprintf("document %d: %s", number, v.Message)
			return v
		}
		learnt.Warnings = append(learnt.Warnings, v.Warnings...)
	}
}
