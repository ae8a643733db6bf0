package main

// The storage under the API server's REST stores. kube-apiserver gives every store an etcd-backed
// storage.Interface through generic.RESTOptions.Decorator; here every store gets one that holds
// nothing: Get answers "not found" and Create writes nothing, returning the object as it went
// through the store's codec, as etcd3's store does (k8s.io/apiserver/pkg/storage/etcd3/store.go:
// Create encodes, then decodes what it stored into out). So each document is created into an
// empty cluster: nothing it is compared with exists. Any other call means a code path that needs
// real state: the embedded nil interface panics and the verdict says it could not be judged.

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/client-go/tools/cache"
)

type emptyStorage struct {
	storage.Interface
	codec runtime.Codec
}

func (s emptyStorage) Create(_ context.Context, _ string, obj, out runtime.Object, _ uint64) error {
	data, err := runtime.Encode(s.codec, obj)
	if err != nil {
		return err
	}
	_, _, err = s.codec.Decode(data, nil, out)
	return err
}

func (emptyStorage) Versioner() storage.Versioner { return storage.APIObjectVersioner{} }

func (emptyStorage) Get(_ context.Context, key string, _ storage.GetOptions, _ runtime.Object) error {
	return storage.NewKeyNotFoundError(key, 0)
}

func (emptyStorage) ReadinessCheck() error { return nil }

func decorateEmpty(
	config *storagebackend.ConfigForResource,
	_ string,
	_ func(obj runtime.Object) (string, error),
	_ func() runtime.Object,
	_ func() runtime.Object,
	_ storage.AttrFunc,
	_ storage.IndexerFuncs,
	_ *cache.Indexers,
) (storage.Interface, factory.DestroyFunc, error) {
	return emptyStorage{codec: config.Codec}, func() {}, nil
}

// restOptions is the generic.RESTOptionsGetter every store is built with: the codec the dry-run
// copy encodes through (the API server's storage codec for built-ins, unstructured JSON for
// custom resources) and the empty storage.
type restOptions struct {
	codec runtime.Codec
}

func (o restOptions) GetRESTOptions(resource schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	prefix := strings.Trim(resource.Group+"/"+resource.Resource, "/")
	if prefix == "" {
		return generic.RESTOptions{}, fmt.Errorf("no resource name for %v", resource)
	}
	return generic.RESTOptions{
		StorageConfig: &storagebackend.ConfigForResource{
			Config:        storagebackend.Config{Codec: o.codec},
			GroupResource: resource,
		},
		Decorator:      decorateEmpty,
		ResourcePrefix: "/" + prefix,
	}, nil
}
