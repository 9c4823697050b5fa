package io.resident.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Kubernetes manifests, parsed with the Kubernetes model, agree with the app and with each other. */
class ManifestsTest {

    private static final Path K8S = Path.of("k8s");

    private static AppContract app;
    private static Map<Path, Object> manifests;
    private static Deployment deployment;
    private static Container container;

    @BeforeAll
    static void load() throws IOException {
        app = AppContract.read();
        try (Stream<Path> files = Files.walk(K8S)) {
            manifests = new TreeMap<>();
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
                manifests.put(K8S.relativize(file), Serialization.unmarshal(Files.readString(file)));
            }
        }
        deployment = only(Deployment.class);
        List<Container> containers = deployment.getSpec().getTemplate().getSpec().getContainers();
        assertEquals(1, containers.size(), "one container per pod: the model server");
        container = containers.get(0);
    }

    @Test
    void everyManifestIsItsKubernetesKindWithoutUnknownFields() {
        for (var entry : manifests.entrySet()) {
            Object parsed = entry.getValue();
            assertInstanceOf(HasMetadata.class, parsed, entry.getKey() + " is one Kubernetes object");
            if (!(parsed instanceof GenericKubernetesResource)) {
                List<String> unknown = new ArrayList<>();
                collectUnknownFields(parsed, ((HasMetadata) parsed).getKind(), unknown);
                assertEquals(List.of(), unknown, entry.getKey() + ": fields the Kubernetes model does not know");
            }
        }
        // Only the kustomizations and the CRD-based optional manifests are outside the core model (CUSTOM checks those).
        assertEquals(Set.of(Path.of("kustomization.yaml"), Path.of("redis/kustomization.yaml"), Path.of("optional/servicemonitor.yaml"),
                Path.of("optional/inferencepool.yaml"), Path.of("optional/keda-scaledobject.yaml")),
                manifests.entrySet().stream().filter(e -> e.getValue() instanceof GenericKubernetesResource)
                        .map(Map.Entry::getKey).collect(Collectors.toSet()));
    }

    @Test
    void kustomizationListsEveryManifestOfTheBaseAndNothingElse() throws IOException {
        for (Path dir : List.of(K8S, K8S.resolve("redis"))) {
            GenericKubernetesResource kustomization = (GenericKubernetesResource) manifests.get(K8S.relativize(dir.resolve("kustomization.yaml")));
            @SuppressWarnings("unchecked")
            List<String> listed = (List<String>) kustomization.getAdditionalProperties().get("resources");
            Set<String> base;
            try (Stream<Path> files = Files.list(dir)) {
                // the base takes the Redis folder whole, through its own kustomization
                base = files.filter(f -> f.toString().endsWith(".yaml") ? !f.endsWith("kustomization.yaml")
                                : Files.exists(f.resolve("kustomization.yaml")))
                        .map(f -> f.getFileName().toString())
                        .collect(Collectors.toCollection(TreeSet::new));
            }
            assertEquals(base, new TreeSet<>(listed), dir.toString());
            assertEquals(listed.size(), new HashSet<>(listed).size(), "no file listed twice");
        }
    }

    @Test
    void probesAskTheAppsHealthPathsOnItsPort() {
        assertEquals(List.of(app.port()), container.getPorts().stream().map(ContainerPort::getContainerPort).toList());
        assertProbe(container.getStartupProbe(), app.startedPath());
        assertProbe(container.getReadinessProbe(), app.readyPath());
        assertProbe(container.getLivenessProbe(), app.livePath());
    }

    @Test
    void startupProbeWaitsTenMinutesForAFirstDownloadAndLoad() {
        Probe startup = container.getStartupProbe();
        int budget = startup.getPeriodSeconds() * startup.getFailureThreshold();
        assertTrue(budget >= 600, "startup probe gives up after " + budget + " s");
        assertTrue(deployment.getSpec().getProgressDeadlineSeconds() > budget,
                "a rollout may not be declared failed while the startup probe still waits");
    }

    @Test
    void gracePeriodCoversThePreStopPauseAndTheDrainTimeout() {
        List<String> preStop = container.getLifecycle().getPreStop().getExec().getCommand();
        assertEquals("sleep", preStop.get(0));
        long pause = Long.parseLong(preStop.get(1));
        long drain = quarkusDuration(configMap().getData().get("RESIDENT_DRAIN_TIMEOUT")).toSeconds();
        long grace = deployment.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
        assertTrue(grace > pause + drain, "grace " + grace + " s <= preStop " + pause + " s + drain " + drain + " s");
    }

    @Test
    void configMapAndSecretHoldExactlyTheSettingsOfEnvExample() {
        Set<String> configKeys = configMap().getData().keySet();
        Set<String> secretKeys = only(Secret.class).getStringData().keySet();
        assertEquals(Set.of("RESIDENT_API_KEY", "HF_TOKEN"), secretKeys, "credentials, and only them, are secret");
        Set<String> all = new TreeSet<>(configKeys);
        all.addAll(secretKeys);
        assertEquals(configKeys.size() + secretKeys.size(), all.size(), "a key in both ConfigMap and Secret");
        assertEquals(new TreeSet<>(app.envExample().keySet()), all);

        assertEquals(List.of(configMap().getMetadata().getName(), only(Secret.class).getMetadata().getName()),
                container.getEnvFrom().stream().map(ManifestsTest::sourceName).toList());
        assertTrue(container.getEnv() == null || container.getEnv().isEmpty(), "every setting comes from .env.example");
        assertEquals(String.valueOf(app.port()), configMap().getData().get("QUARKUS_HTTP_PORT"));
    }

    @Test
    void modelCacheIsThePersistentVolumeAtHfHome() {
        String hfHome = configMap().getData().get("HF_HOME");
        assertEquals(app.envExample().get("HF_HOME"), hfHome);
        Volume models = volumeMountedAt(hfHome);
        assertEquals(only(PersistentVolumeClaim.class).getMetadata().getName(), models.getPersistentVolumeClaim().getClaimName());
    }

    @Test
    void podRunsAsNonRootOnAReadOnlyRootWithNoCapabilities() {
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        var podSecurity = pod.getSecurityContext();
        assertTrue(podSecurity.getRunAsNonRoot());
        assertEquals(1001L, podSecurity.getRunAsUser(), "the images' user");
        assertEquals(1001L, podSecurity.getFsGroup());
        assertEquals("RuntimeDefault", podSecurity.getSeccompProfile().getType());
        var security = container.getSecurityContext();
        assertTrue(security.getReadOnlyRootFilesystem());
        assertFalse(security.getAllowPrivilegeEscalation());
        assertEquals(List.of("ALL"), security.getCapabilities().getDrop());
        assertTrue(volumeMountedAt("/tmp").getEmptyDir() != null, "/tmp must stay writable for JNA and Vert.x");
    }

    @Test
    void containerAsksForOneGpuAndBoundedMemory() {
        var resources = container.getResources();
        assertEquals(new Quantity("1"), resources.getLimits().get("nvidia.com/gpu"));
        assertEquals(resources.getLimits().get("nvidia.com/gpu"), resources.getRequests().get("nvidia.com/gpu"));
        assertTrue(Quantity.getAmountInBytes(resources.getRequests().get("memory"))
                .compareTo(Quantity.getAmountInBytes(resources.getLimits().get("memory"))) <= 0);
    }

    @Test
    void serviceReachesTheAppPortWithoutAffinitySinceSessionsLiveInRedis() {
        Service service = service("resident");
        assertTrue(podLabels().entrySet().containsAll(service.getSpec().getSelector().entrySet()));
        ServicePort port = service.getSpec().getPorts().get(0);
        assertEquals(app.port(), containerPort(port.getTargetPort()));
        assertEquals("redis", configMap().getData().get("RESIDENT_SESSION_STORE"));
        assertEquals("None", service.getSpec().getSessionAffinity(), "any pod resumes any session");
        assertEquals("true", configMap().getData().get("QUARKUS_HTTP_PROXY_PROXY_ADDRESS_FORWARDING"),
                "behind an ingress, per-client limits count the forwarded client");
    }

    @Test
    void redisIsAStatefulSetWithItsAppendOnlyFileOnAVolumeAtTheConfigMapsAddress() {
        StatefulSet redis = only(StatefulSet.class);
        Service service = service(redis.getSpec().getServiceName());
        URI hosts = URI.create(configMap().getData().get("QUARKUS_REDIS_HOSTS"));
        assertEquals("redis", hosts.getScheme());
        assertEquals(service.getMetadata().getName(), hosts.getHost());
        ServicePort port = service.getSpec().getPorts().get(0);
        assertEquals(hosts.getPort(), port.getPort());

        Map<String, String> podLabels = redis.getSpec().getTemplate().getMetadata().getLabels();
        assertEquals(redis.getSpec().getSelector().getMatchLabels(), service.getSpec().getSelector());
        assertTrue(podLabels.entrySet().containsAll(service.getSpec().getSelector().entrySet()));
        assertFalse(podLabels.entrySet().containsAll(service("resident").getSpec().getSelector().entrySet()),
                "the app's Service must not reach Redis");
        Container container = redis.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals(port.getTargetPort().getStrVal(), container.getPorts().get(0).getName());
        List<String> args = container.getArgs();
        assertEquals("yes", args.get(args.indexOf("--appendonly") + 1), "sessions survive a restart of Redis");
        assertEquals("volatile-lru", args.get(args.indexOf("--maxmemory-policy") + 1), "every session key has a TTL");
        String dir = args.get(args.indexOf("--dir") + 1);
        VolumeMount data = container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(dir)).findFirst().orElseThrow();
        PersistentVolumeClaim claim = redis.getSpec().getVolumeClaimTemplates().get(0);
        assertEquals(claim.getMetadata().getName(), data.getName());
        assertEquals(List.of("ReadWriteOnce"), claim.getSpec().getAccessModes());
        assertTrue(redis.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot());
        assertTrue(container.getSecurityContext().getReadOnlyRootFilesystem());
    }

    @Test
    void modelVolumeIsReadWriteOnceWhichEveryStorageClassOffers() {
        assertEquals(List.of("ReadWriteOnce"), only(PersistentVolumeClaim.class).getSpec().getAccessModes());
    }

    @Test
    void inferencePoolSelectsTheModelServersOnTheirPortWithAnEndpointPicker() {
        Map<String, Object> pool = custom("optional/inferencepool.yaml", "inference.networking.k8s.io/v1", "InferencePool");
        Map<String, Object> spec = map(pool.get("spec"));
        assertEquals(Set.of("selector", "targetPorts", "endpointPickerRef"), spec.keySet());
        Map<String, String> selector = stringMap(map(spec.get("selector")).get("matchLabels"));
        assertEquals(deployment.getSpec().getSelector().getMatchLabels(), selector);
        assertEquals(List.of(Map.of("number", app.port())), spec.get("targetPorts"));
        Map<String, Object> picker = map(spec.get("endpointPickerRef"));
        assertTrue(Set.of("group", "kind", "name", "port", "failureMode").containsAll(picker.keySet()), picker.toString());
        assertTrue(Set.of("FailOpen", "FailClose").contains(picker.get("failureMode")));
        assertTrue(map(picker.get("port")).get("number") instanceof Integer);
    }

    @Test
    void kedaScalesTheDeploymentOnWaitingRequestsLikeTheHpa() {
        Map<String, Object> scaled = custom("optional/keda-scaledobject.yaml", "keda.sh/v1alpha1", "ScaledObject");
        Map<String, Object> spec = map(scaled.get("spec"));
        assertTrue(Set.of("scaleTargetRef", "minReplicaCount", "maxReplicaCount", "cooldownPeriod", "pollingInterval",
                "triggers").containsAll(spec.keySet()), spec.keySet().toString());
        Map<String, Object> target = map(spec.get("scaleTargetRef"));
        assertEquals("Deployment", target.get("kind"));
        assertEquals(deployment.getMetadata().getName(), target.get("name"));
        HorizontalPodAutoscaler hpa = only(HorizontalPodAutoscaler.class);
        assertEquals(hpa.getSpec().getMinReplicas(), spec.get("minReplicaCount"));
        assertEquals(hpa.getSpec().getMaxReplicas(), spec.get("maxReplicaCount"));
        @SuppressWarnings("unchecked")
        Map<String, Object> trigger = map(((List<Object>) spec.get("triggers")).get(0));
        assertEquals("prometheus", trigger.get("type"));
        Map<String, String> metadata = stringMap(trigger.get("metadata"));
        assertTrue(metadata.get("query").contains(hpa.getSpec().getMetrics().get(0).getPods().getMetric().getName()));
        assertEquals(hpa.getSpec().getMetrics().get(0).getPods().getTarget().getAverageValue(), new Quantity(metadata.get("threshold")));
        assertTrue(metadata.get("serverAddress").startsWith("http"));
    }

    @Test
    void disruptionBudgetSelectsTheDeploymentsPods() {
        Map<String, String> selector = only(PodDisruptionBudget.class).getSpec().getSelector().getMatchLabels();
        assertEquals(deployment.getSpec().getSelector().getMatchLabels(), selector);
        assertTrue(podLabels().entrySet().containsAll(selector.entrySet()));
    }

    @Test
    void autoscalerScalesTheDeploymentOnWaitingRequests() {
        HorizontalPodAutoscaler hpa = only(HorizontalPodAutoscaler.class);
        assertEquals("Deployment", hpa.getSpec().getScaleTargetRef().getKind());
        assertEquals(deployment.getMetadata().getName(), hpa.getSpec().getScaleTargetRef().getName());
        MetricSpec metric = hpa.getSpec().getMetrics().get(0);
        assertEquals("Pods", metric.getType());
        assertEquals("resident_requests_waiting", metric.getPods().getMetric().getName());
        assertTrue(hpa.getSpec().getMinReplicas() >= 1 && hpa.getSpec().getMaxReplicas() > hpa.getSpec().getMinReplicas());
    }

    @Test
    void metricsAreScrapedAtTheAppsPrometheusPath() {
        Map<String, String> annotations = deployment.getSpec().getTemplate().getMetadata().getAnnotations();
        assertEquals(app.metricsPath(), annotations.get("prometheus.io/path"));
        assertEquals(String.valueOf(app.port()), annotations.get("prometheus.io/port"));

        Map<String, Object> monitor = custom("optional/servicemonitor.yaml", "monitoring.coreos.com/v1", "ServiceMonitor");
        @SuppressWarnings("unchecked")
        Map<String, Object> endpoint = ((List<Map<String, Object>>) map(monitor.get("spec")).get("endpoints")).get(0);
        assertEquals(app.metricsPath(), endpoint.get("path"));
        assertTrue(service("resident").getSpec().getPorts().stream().anyMatch(p -> p.getName().equals(endpoint.get("port"))));
        Map<String, String> selector = stringMap(map(map(monitor.get("spec")).get("selector")).get("matchLabels"));
        assertTrue(service("resident").getMetadata().getLabels().entrySet().containsAll(selector.entrySet()));
        assertFalse(service("resident-redis").getMetadata().getLabels().entrySet().containsAll(selector.entrySet()),
                "Redis has no /q/metrics");
        // kube-prometheus-stack's default serviceMonitorSelector: the label release=<its Helm release>
        assertEquals("kube-prometheus-stack",
                stringMap(map(monitor.get("metadata")).get("labels")).get("release"));
    }

    private static void assertProbe(Probe probe, String path) {
        assertNotNull(probe, "no probe for " + path);
        HTTPGetAction get = probe.getHttpGet();
        assertEquals(path, get.getPath());
        assertEquals(app.port(), containerPort(get.getPort()));
    }

    /** A port given by name resolves through the container's named ports, as the kubelet does. */
    private static int containerPort(IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return container.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName()))
                .findFirst().orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal()))
                .getContainerPort();
    }

    private static Volume volumeMountedAt(String path) {
        String name = container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path))
                .map(VolumeMount::getName).findFirst().orElseThrow(() -> new AssertionError("nothing mounted at " + path));
        return deployment.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(name)).findFirst().orElseThrow();
    }

    private static Map<String, String> podLabels() {
        return deployment.getSpec().getTemplate().getMetadata().getLabels();
    }

    private static Service service(String name) {
        return manifests.values().stream().filter(Service.class::isInstance).map(Service.class::cast)
                .filter(s -> s.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no Service " + name));
    }

    /** A manifest of a custom resource as plain maps, after a check of its apiVersion and kind. */
    private static Map<String, Object> custom(String file, String apiVersion, String kind) {
        GenericKubernetesResource resource = (GenericKubernetesResource) manifests.get(Path.of(file));
        assertEquals(apiVersion, resource.getApiVersion(), file);
        assertEquals(kind, resource.getKind(), file);
        Map<String, Object> fields = new HashMap<>(resource.getAdditionalProperties());
        fields.put("metadata", Serialization.jsonMapper().convertValue(resource.getMetadata(), Map.class));
        return fields;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object node) {
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> stringMap(Object node) {
        return (Map<String, String>) node;
    }

    private static ConfigMap configMap() {
        return only(ConfigMap.class);
    }

    private static String sourceName(EnvFromSource source) {
        return source.getConfigMapRef() != null ? source.getConfigMapRef().getName() : source.getSecretRef().getName();
    }

    private static <T> T only(Class<T> kind) {
        List<T> found = manifests.values().stream().filter(kind::isInstance).map(kind::cast).toList();
        assertEquals(1, found.size(), "manifests of kind " + kind.getSimpleName());
        return found.get(0);
    }

    /** Quarkus duration syntax as the ConfigMap uses it: a number and one of ms, s, m, h, d. */
    private static Duration quarkusDuration(String value) {
        return Duration.parse(value.matches("\\d+d") ? "P" + value.toUpperCase() : "PT" + value.toUpperCase());
    }

    /** The model keeps fields it does not know in additionalProperties: a typo in a manifest lands there. */
    private static void collectUnknownFields(Object node, String path, List<String> unknown) {
        if (node instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                collectUnknownFields(item, path + "[" + i++ + "]", unknown);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> collectUnknownFields(v, path + "." + k, unknown));
            return;
        }
        if (node == null || !node.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                ((Map<?, ?>) value).keySet().forEach(k -> unknown.add(path + "." + k));
            } else {
                collectUnknownFields(value, path + "." + getter.getName().substring(3), unknown);
            }
        }
    }
}
