package main

// The API server's resources, built as kube-apiserver builds them: the same storage providers in
// the same order (k8s.io/kubernetes/pkg/controlplane/instance.go: StorageProviders), the same
// default API enablement (DefaultAPIResourceConfigSource) and the same removal of kinds the
// (emulated) version does not serve (pkg/controlplane/apiserver/apis.go: InstallAPIs). The
// dependencies a provider needs from a running server (clients, informers, an authorizer) are an
// empty fake clientset and an authorizer that allows everything, as for system:masters.

import (
	"fmt"
	"net"
	"sort"
	"strings"

	apiextensionsinstall "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/install"
	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	crdregistry "k8s.io/apiextensions-apiserver/pkg/registry/customresourcedefinition"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	aggregatorscheme "k8s.io/kube-aggregator/pkg/apiserver/scheme"
	apiserviceregistry "k8s.io/kube-aggregator/pkg/registry/apiservice/etcd"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/controlplane"
	controlplaneapiserver "k8s.io/kubernetes/pkg/controlplane/apiserver"
	admissionregistrationrest "k8s.io/kubernetes/pkg/registry/admissionregistration/rest"
	apiserverinternalrest "k8s.io/kubernetes/pkg/registry/apiserverinternal/rest"
	appsrest "k8s.io/kubernetes/pkg/registry/apps/rest"
	autoscalingrest "k8s.io/kubernetes/pkg/registry/autoscaling/rest"
	batchrest "k8s.io/kubernetes/pkg/registry/batch/rest"
	certificatesrest "k8s.io/kubernetes/pkg/registry/certificates/rest"
	coordinationrest "k8s.io/kubernetes/pkg/registry/coordination/rest"
	discoveryrest "k8s.io/kubernetes/pkg/registry/discovery/rest"
	eventsrest "k8s.io/kubernetes/pkg/registry/events/rest"
	flowcontrolrest "k8s.io/kubernetes/pkg/registry/flowcontrol/rest"
	networkingrest "k8s.io/kubernetes/pkg/registry/networking/rest"
	noderest "k8s.io/kubernetes/pkg/registry/node/rest"
	policyrest "k8s.io/kubernetes/pkg/registry/policy/rest"
	rbacrest "k8s.io/kubernetes/pkg/registry/rbac/rest"
	resourcerest "k8s.io/kubernetes/pkg/registry/resource/rest"
	schedulingrest "k8s.io/kubernetes/pkg/registry/scheduling/rest"
	storagerest "k8s.io/kubernetes/pkg/registry/storage/rest"
	svmrest "k8s.io/kubernetes/pkg/registry/storagemigration/rest"
)

// resource is one served apiVersion/kind and the store a create of it goes to.
type resource struct {
	gvk        schema.GroupVersionKind
	gvr        schema.GroupVersionResource
	namespaced bool
	creater    rest.Creater
	newObject  func() runtime.Object
	codecs     serializer.CodecFactory
	// hub is the version the handler decodes into: the group's internal version for built-ins,
	// the version itself for custom resources (HubGroupVersion in both handlers).
	hub schema.GroupVersion
	// crd: decoding goes through the CRD's structural schema (crd.go).
	crd *crdVersion
}

type server struct {
	core      *coreProvider
	resources map[schema.GroupVersionKind]*resource
	// taught holds the custom resources of the CRDs learnt, apart, so a CRD may be re-taught.
	taught map[schema.GroupVersionKind]*resource
	getter restOptions
}

func newServer(opts options) (*server, error) {
	services, err := newServiceAllocators(opts)
	if err != nil {
		return nil, err
	}
	s := &server{
		resources: map[schema.GroupVersionKind]*resource{},
		taught:    map[schema.GroupVersionKind]*resource{},
		getter:    restOptions{codec: legacyscheme.Codecs.LegacyCodec(legacyscheme.Scheme.PrioritizedVersionsAllGroups()...)},
	}
	configSource := controlplane.DefaultAPIResourceConfigSource()
	evaluator, err := genericapiserver.NewResourceExpirationEvaluatorFromOptions(genericapiserver.ResourceExpirationEvaluatorOptions{
		CurrentVersion: utilfeature.DefaultMutableFeatureGate.EmulationVersion(),
	})
	if err != nil {
		return nil, err
	}
	s.core = &coreProvider{services: services, client: fake.NewSimpleClientset(),
		authorizer: authorizerfactory.NewAlwaysAllowAuthorizer()}
	for _, provider := range storageProviders(s.core) {
		info, err := provider.NewRESTStorage(configSource, s.getter)
		if err != nil {
			return nil, fmt.Errorf("API group %q: %v", provider.GroupName(), err)
		}
		if err := evaluator.RemoveUnavailableKinds(provider.GroupName(), info.Scheme, info.VersionedResourcesStorageMap, configSource); err != nil {
			return nil, err
		}
		s.add(provider.GroupName(), info.VersionedResourcesStorageMap, legacyscheme.Scheme, legacyscheme.Codecs)
	}
	if err := s.addExtensionServers(); err != nil {
		return nil, err
	}
	return s, nil
}

// storageProviders lists kube-apiserver's providers in its order (StorageProviders); the core
// group is ours only in how its stores get their service allocators (core.go).
func storageProviders(core *coreProvider) []controlplaneapiserver.RESTStorageProvider {
	allowAll := core.authorizer
	client := core.client
	return []controlplaneapiserver.RESTStorageProvider{
		core,
		apiserverinternalrest.StorageProvider{},
		autoscalingrest.RESTStorageProvider{},
		batchrest.RESTStorageProvider{},
		certificatesrest.RESTStorageProvider{Authorizer: allowAll},
		coordinationrest.RESTStorageProvider{},
		discoveryrest.StorageProvider{},
		networkingrest.RESTStorageProvider{},
		noderest.RESTStorageProvider{},
		policyrest.RESTStorageProvider{},
		rbacrest.RESTStorageProvider{Authorizer: allowAll},
		schedulingrest.RESTStorageProvider{},
		storagerest.RESTStorageProvider{},
		svmrest.RESTStorageProvider{},
		flowcontrolrest.RESTStorageProvider{InformerFactory: informers.NewSharedInformerFactory(client, 0)},
		appsrest.StorageProvider{},
		admissionregistrationrest.RESTStorageProvider{Authorizer: allowAll, DiscoveryClient: client.Discovery()},
		eventsrest.RESTStorageProvider{TTL: 0},
		resourcerest.RESTStorageProvider{NamespaceClient: client.CoreV1().Namespaces(), Authorizer: allowAll},
	}
}

// addExtensionServers adds what kube-apiserver serves through the servers it chains in the same
// process: CustomResourceDefinitions (apiextensions-apiserver) and APIServices (kube-aggregator).
func (s *server) addExtensionServers() error {
	apiextensionsinstall.Install(apiextensionsapiserver.Scheme)
	crdCodec := restOptions{codec: apiextensionsapiserver.Codecs.LegacyCodec(apiextensionsapiserver.Scheme.PrioritizedVersionsAllGroups()...)}
	crds, err := crdregistry.NewREST(apiextensionsapiserver.Scheme, crdCodec)
	if err != nil {
		return fmt.Errorf("customresourcedefinitions: %v", err)
	}
	s.add("apiextensions.k8s.io", map[string]map[string]rest.Storage{"v1": {"customresourcedefinitions": crds}},
		apiextensionsapiserver.Scheme, apiextensionsapiserver.Codecs)

	aggregatorCodecs := serializer.NewCodecFactory(aggregatorscheme.Scheme)
	aggregatorCodec := restOptions{codec: aggregatorCodecs.LegacyCodec(aggregatorscheme.Scheme.PrioritizedVersionsAllGroups()...)}
	apiServices := apiserviceregistry.NewREST(aggregatorscheme.Scheme, aggregatorCodec)
	s.add("apiregistration.k8s.io", map[string]map[string]rest.Storage{"v1": {"apiservices": apiServices}},
		aggregatorscheme.Scheme, aggregatorCodecs)
	return nil
}

func (s *server) add(group string, byVersion map[string]map[string]rest.Storage, scheme *runtime.Scheme,
	codecs serializer.CodecFactory) {
	for version, byResource := range byVersion {
		for name, storage := range byResource {
			creater, ok := storage.(rest.Creater)
			if !ok || strings.Contains(name, "/") {
				continue // subresources and resources nobody creates from a manifest
			}
			kinds, _, err := scheme.ObjectKinds(storage.New())
			if err != nil || len(kinds) == 0 {
				continue
			}
			gvk := schema.GroupVersionKind{Group: group, Version: version, Kind: kinds[0].Kind}
			namespaced := false
			if scoper, ok := storage.(rest.Scoper); ok {
				namespaced = scoper.NamespaceScoped()
			}
			s.resources[gvk] = &resource{
				gvk:        gvk,
				gvr:        gvk.GroupVersion().WithResource(name),
				namespaced: namespaced,
				creater:    creater,
				newObject:  storage.New,
				codecs:     codecs,
				hub:        schema.GroupVersion{Group: group, Version: runtime.APIVersionInternal},
			}
		}
	}
}

// servedKinds lists every apiVersion/kind a document can have, sorted.
func (s *server) servedKinds() []string {
	out := make([]string, 0, len(s.resources))
	for gvk, r := range s.resources {
		scope := "Cluster"
		if r.namespaced {
			scope = "Namespaced"
		}
		out = append(out, fmt.Sprintf("%s %s %s", gvk.GroupVersion().String(), gvk.Kind, scope))
	}
	sort.Strings(out)
	return out
}

// serviceAllocators are the cluster settings a Service create depends on.
type serviceAllocators struct {
	clusterIPRange net.IPNet
	nodePorts      utilnet.PortRange
}

func newServiceAllocators(opts options) (serviceAllocators, error) {
	_, cidr, err := net.ParseCIDR(opts.serviceCIDR)
	if err != nil {
		return serviceAllocators{}, fmt.Errorf("--service-cluster-ip-range %q: expected a CIDR such as 10.96.0.0/12", opts.serviceCIDR)
	}
	ports, err := utilnet.ParsePortRange(opts.nodePortRange)
	if err != nil {
		return serviceAllocators{}, fmt.Errorf("--service-node-port-range %q: expected FIRST-LAST such as 30000-32767", opts.nodePortRange)
	}
	return serviceAllocators{clusterIPRange: *cidr, nodePorts: *ports}, nil
}
