package io.github.cdkcrossregionconfig.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import io.github.cdkcrossregionconfig.CrossRegionConfigDashboard;
import io.github.cdkcrossregionconfig.CrossRegionConfigManagement;
import io.github.cdkcrossregionconfig.DriftDetectionOptions;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.assertions.Template;
import software.amazon.awscdk.services.kms.Key;
import software.amazon.awscdk.services.sns.Topic;

/** The one-stop construct and the dashboard, from Java: the seed's secrets stack. */
class ConfigManagementTest {
    private static Stack seedStack(final App app) {
        return new Stack(app, "SecretsStack", StackProps.builder()
                .env(Environment.builder().account("111122223333").region("ap-east-2").build())
                .build());
    }

    @Test
    void synthesizesTheSeedSecretsStackWithItsDocumentsAlarmsAndDashboard() {
        Stack stack = seedStack(new App());
        Topic alerts = Topic.Builder.create(stack, "Alerts").masterKey(Key.Builder.create(stack, "AlertsKey").build()).build();
        CrossRegionConfigManagement management = CrossRegionConfigManagement.Builder.create(stack, "Secrets")
                .environment("production")
                .projectName("genai-demo")
                .secretsManagerKey(Key.Builder.create(stack, "SecretsKey").build())
                .replicationRegions(List.of("ap-northeast-1", "ap-southeast-1"))
                .alertingTopic(alerts)
                .driftDetection(DriftDetectionOptions.builder().parameterPaths(List.of("/genai-demo/production/app")).build())
                .build();
        Template template = Template.fromStack(stack);

        assertNotNull(management.getReplicator());
        assertNotNull(management.getDriftDetector());
        assertNotNull(management.getDashboard());
        template.hasResourceProperties("AWS::Lambda::Function", Map.of("FunctionName", "genai-demo-production-cross-region-sync"));
        template.hasResourceProperties("AWS::Lambda::Function", Map.of("FunctionName", "genai-demo-production-drift-detection"));
        template.hasResourceProperties("AWS::SSM::Parameter", Map.of("Name", "/genai-demo/production/global/secrets/cross-region-config"));
        template.hasResourceProperties("AWS::SSM::Parameter", Map.of("Name", "/genai-demo/production/global/secrets/drift-detection-config"));
        template.hasResourceProperties("AWS::CloudWatch::Dashboard", Map.of("DashboardName", "genai-demo-production-cross-region-config"));
        Map<String, Map<String, Object>> alarms = template.findResources("AWS::CloudWatch::Alarm");
        assertEquals(management.getAlarms().size(), alarms.size());
        assertTrue(alarms.size() > 6);
    }

    @Test
    void buildsAStandaloneDashboardFromTheConstructsWidgets() {
        Stack stack = seedStack(new App());
        CrossRegionConfigManagement management = CrossRegionConfigManagement.Builder.create(stack, "Secrets")
                .environment("staging")
                .projectName("genai-demo")
                .replicationRegions(List.of("ap-northeast-1"))
                .dashboard(false)
                .build();
        CrossRegionConfigDashboard.Builder.create(stack, "Dashboard")
                .replicator(management.getReplicator())
                .driftDetector(management.getDriftDetector())
                .dashboardName("genai-demo-staging-ops")
                .build();
        Template template = Template.fromStack(stack);
        template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
        template.hasResourceProperties("AWS::CloudWatch::Dashboard", Map.of("DashboardName", "genai-demo-staging-ops"));
        assertTrue(management.getReplicator().dashboardWidgets().size() > 3);
    }
}
