package io.github.cdkcrossregionconfig.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.cdkcrossregionconfig.ConfigMapRolloutOptions;
import io.github.cdkcrossregionconfig.ConfigMapSyncTarget;
import io.github.cdkcrossregionconfig.ConfigMapSyncer;
import io.github.cdkcrossregionconfig.ConfigParityCheck;
import io.github.cdkcrossregionconfig.CrossRegionParameterReplicator;
import io.github.cdkcrossregionconfig.KubernetesCluster;
import io.github.cdkcrossregionconfig.KubernetesClusterAttributes;
import io.github.cdkcrossregionconfig.ParameterOverride;
import io.github.cdkcrossregionconfig.ParameterSelection;
import io.github.cdkcrossregionconfig.ParameterSelectionOptions;
import io.github.cdkcrossregionconfig.WorkloadKind;
import io.github.cdkcrossregionconfig.WorkloadSelection;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Template;

/** A config parity check inheriting a parameter replicator, and a ConfigMap syncer rolling workloads, from Java. */
class ParityAndRolloutTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Stack stack(final String name) {
        return new Stack(new App(), name, StackProps.builder()
                .env(Environment.builder().account("111122223333").region("us-east-1").build())
                .build());
    }

    /** The environment of the one Lambda function whose environment has {@code marker}. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> environment(final Template template, final String marker) {
        List<Map<String, Object>> found = template.findResources("AWS::Lambda::Function").values().stream()
                .map(fn -> (Map<String, Object>) ((Map<String, Object>) fn.get("Properties")).get("Environment"))
                .filter(env -> env != null && ((Map<String, Object>) env.get("Variables")).containsKey(marker))
                .map(env -> (Map<String, Object>) env.get("Variables"))
                .toList();
        assertEquals(1, found.size(), "functions with " + marker);
        return found.get(0);
    }

    private static JsonNode json(final Map<String, Object> env, final String name) throws Exception {
        return JSON.readTree((String) env.get(name));
    }

    @Test
    void theParityCheckTakesTheParameterReplicatorsPathsRegionsAndOverrides() throws Exception {
        Stack stack = stack("Parity");
        CrossRegionParameterReplicator replicator = CrossRegionParameterReplicator.Builder.create(stack, "Parameters")
                .parameters(ParameterSelection.fromPaths(List.of("/payments/production"),
                        ParameterSelectionOptions.builder().excludedPaths(List.of("/payments/production/local")).build()))
                .replicaRegions(List.of("eu-west-1", "ap-southeast-2"))
                .overrides(List.of(ParameterOverride.forRegion("/payments/production/ami", "eu-west-1", "ami-0123456789abcdef0")))
                .build();
        ConfigParityCheck check = ConfigParityCheck.Builder.create(stack, "Parity").parameterReplicator(replicator).build();

        assertEquals(List.of("eu-west-1", "ap-southeast-2"), check.getCheckedRegions());
        Map<String, Object> env = environment(Template.fromStack(stack), "PARITY_TARGETS");
        assertEquals("[\"/payments/production\"]", env.get("PARAMETER_PATHS"));
        JsonNode overrides = json(env, "PARAMETER_OVERRIDES");
        assertEquals(1, overrides.size());
        assertEquals("eu-west-1", overrides.get(0).get("region").asText());
        assertEquals("ami-0123456789abcdef0", overrides.get(0).get("value").asText());
        assertEquals("/payments/production/local/**", json(env, "IGNORE_RULES").get(0).get("namePattern").asText());
        assertEquals("ConfigParity-eu-west-1", ConfigParityCheck.regionSwitchStepName("eu-west-1"));
    }

    @Test
    void theSyncerRollsNamedAndSelectedWorkloadsRegionByRegion() throws Exception {
        Stack stack = stack("Rollout");
        KubernetesCluster eu = KubernetesCluster.fromClusterAttributes(
                KubernetesClusterAttributes.builder().clusterName("payments-eu").region("eu-west-1").build());
        ConfigMapSyncer syncer = ConfigMapSyncer.Builder.create(stack, "Syncer")
                .parameterPath("/payments/production/config")
                .configMapName("payments-config")
                .targets(List.of(ConfigMapSyncTarget.builder()
                        .cluster(eu)
                        .workloads(List.of(
                                WorkloadSelection.named(WorkloadKind.DEPLOYMENT, "web"),
                                WorkloadSelection.byLabels(WorkloadKind.STATEFUL_SET, "app in (db)")))
                        .build()))
                .rollout(ConfigMapRolloutOptions.builder()
                        .regionByRegion(true)
                        .rolloutTimeout(Duration.minutes(20))
                        .waveWait(Duration.minutes(3))
                        .build())
                .build();

        Map<String, Object> env = environment(Template.fromStack(stack), "SYNC_TARGETS");
        JsonNode workloads = json(env, "SYNC_TARGETS").get(0).get("workloads");
        assertEquals("web", workloads.get(0).get("name").asText());
        assertEquals("app in (db)", workloads.get(1).get("labelSelector").asText());
        JsonNode rollout = json(env, "ROLLOUT");
        assertEquals("region-by-region", rollout.get("waves").asText());
        assertEquals(1200, rollout.get("rolloutTimeoutSeconds").asInt());
        assertEquals(180, rollout.get("waveWaitSeconds").asInt());
        assertTrue(syncer.getRollsWorkloads());
        assertTrue(syncer.getAlarms().contains(syncer.getRolloutFailuresAlarm()));
    }
}
