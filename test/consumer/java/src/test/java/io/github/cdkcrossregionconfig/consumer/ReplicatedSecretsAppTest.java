package io.github.cdkcrossregionconfig.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import io.github.cdkcrossregionconfig.CrossRegionSecretReplicator;
import io.github.cdkcrossregionconfig.ReplicatorMetricOptions;
import io.github.cdkcrossregionconfig.SecretSelection;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.CfnResource;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.assertions.Template;
import software.amazon.awscdk.services.cloudwatch.Metric;

/** Synthesizes {@link ReplicatedSecretsApp} with the jar from dist/java and checks the template. */
class ReplicatedSecretsAppTest {
    /** Errors, throttles, dead letters, replication failures, conflicts (SKIP_AND_ALARM) and full-sync age. */
    private static final int ALARM_COUNT = 6;

    private static ReplicatedSecretsApp.ReplicatedSecretsStack stack;
    private static Template template;

    @BeforeAll
    static void synthesize() {
        stack = ReplicatedSecretsApp.addStack(new App());
        template = Template.fromStack(stack);
    }

    private static String logicalId(final software.constructs.IConstruct construct) {
        return stack.getLogicalId((CfnResource) construct.getNode().getDefaultChild());
    }

    @Test
    void createsTheHandlerWithTheDocumentedDefaults() {
        template.resourceCountIs("AWS::Lambda::Function", 1);
        template.hasResourceProperties("AWS::Lambda::Function", Map.of(
                "Runtime", "nodejs22.x",
                "Architectures", List.of("arm64"),
                "MemorySize", 512,
                "Timeout", 600)); // seconds: Duration.minutes(10)
    }

    @Test
    void sendsSecretChangesAndTheScheduleToTheHandler() {
        Map<String, Object> handlerArn = Map.of("Fn::GetAtt", List.of(logicalId(stack.getReplicator().getHandler()), "Arn"));
        template.resourceCountIs("AWS::Events::Rule", 2);
        template.hasResourceProperties("AWS::Events::Rule", Map.of(
                "EventPattern", Match.objectLike(Map.of("source", List.of("aws.secretsmanager"))),
                "Targets", List.of(Match.objectLike(Map.of("Arn", handlerArn)))));
        template.hasResourceProperties("AWS::Events::Rule", Map.of(
                "ScheduleExpression", "rate(6 hours)",
                "Targets", List.of(Match.objectLike(Map.of("Arn", handlerArn, "Input", "{\"action\":\"reconcile\"}")))));
    }

    @Test
    void everyAlarmNotifiesTheTopic() {
        Map<String, Map<String, Object>> alarms = template.findResources("AWS::CloudWatch::Alarm");
        assertEquals(ALARM_COUNT, alarms.size());
        assertEquals(ALARM_COUNT, stack.getReplicator().getAlarms().size());
        List<Object> topicRef = List.of(Map.of("Ref", logicalId(stack.getAlarmTopic())));
        alarms.forEach((id, alarm) -> assertEquals(topicRef,
                ((Map<?, ?>) alarm.get("Properties")).get("AlarmActions"), id));
        assertNotNull(stack.getReplicator().getConflictsAlarm());
        template.hasResourceProperties("AWS::CloudWatch::Alarm", Map.of("MetricName", "Conflicts", "Threshold", 1));
    }

    @Test
    void metricReplicationLatencyPerRegion() {
        Metric metric = stack.getReplicator().metricReplicationLatency(
                ReplicatorMetricOptions.builder().replicaRegion("eu-west-1").build());
        assertEquals("ReplicationLatency", metric.getMetricName());
        assertEquals(Map.of("service", stack.getReplicator().getServiceName(), "ReplicaRegion", "eu-west-1"),
                metric.getDimensions());
    }

    @Test
    void failsIfReplicaRegionsContainsThePrimaryRegion() {
        Stack primary = new Stack(new App(), "Primary", StackProps.builder()
                .env(Environment.builder().region(ReplicatedSecretsApp.PRIMARY_REGION).build())
                .build());
        RuntimeException error = assertThrows(RuntimeException.class, () ->
                CrossRegionSecretReplicator.Builder.create(primary, "Replicator")
                        .secrets(SecretSelection.byNamePrefix("prod/app/"))
                        .replicaRegions(List.of("eu-west-1", "us-east-1"))
                        .build());
        // The jsii Java runtime appends the JavaScript stack trace to the message: compare its first line.
        assertEquals("Primary/Replicator: replicaRegions must not contain the primary region, but got [\"eu-west-1\",\"us-east-1\"]",
                error.getMessage().lines().findFirst().orElse(""));
    }
}
