package io.github.cdkcrossregionconfig.consumer;

import java.util.List;

import io.github.cdkcrossregionconfig.ConflictPolicy;
import io.github.cdkcrossregionconfig.CrossRegionSecretReplicator;
import io.github.cdkcrossregionconfig.ReplicaKmsKey;
import io.github.cdkcrossregionconfig.SecretSelection;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.cloudwatch.actions.SnsAction;
import software.amazon.awscdk.services.sns.Topic;
import software.constructs.Construct;

/**
 * A consumer CDK app in Java: replicates the {@code prod/app/} secrets of us-east-1 to two regions.
 * It mirrors test/consumer/python/app.py.
 */
public final class ReplicatedSecretsApp {
    public static final String PRIMARY_REGION = "us-east-1";
    public static final List<String> REPLICA_REGIONS = List.of("eu-west-1", "ap-southeast-2");
    public static final String ACCOUNT = "111122223333";
    public static final String PARAMETER_PREFIX = "/payments/production";

    /** The primary-region stack: the replicator and the topic its alarms notify. */
    public static final class ReplicatedSecretsStack extends Stack {
        private final Topic alarmTopic;
        private final CrossRegionSecretReplicator replicator;

        public ReplicatedSecretsStack(final Construct scope, final String id, final StackProps props) {
            super(scope, id, props);

            alarmTopic = Topic.Builder.create(this, "AlarmTopic")
                    .displayName("Secret replication alarms")
                    .build();

            replicator = CrossRegionSecretReplicator.Builder.create(this, "SecretReplicator")
                    .secrets(SecretSelection.byNamePrefix("prod/app/"))
                    .replicaRegions(REPLICA_REGIONS)
                    // Ireland's replicas use the customer managed key alias/prod-secrets; Sydney's use aws/secretsmanager.
                    .replicaKmsKeys(List.of(ReplicaKmsKey.builder()
                            .region("eu-west-1")
                            .aliasName("alias/prod-secrets")
                            .build()))
                    .conflictPolicy(ConflictPolicy.SKIP_AND_ALARM)
                    .parameterPrefix(PARAMETER_PREFIX)
                    .alarmActions(List.of(new SnsAction(alarmTopic)))
                    .build();
        }

        public Topic getAlarmTopic() {
            return alarmTopic;
        }

        public CrossRegionSecretReplicator getReplicator() {
            return replicator;
        }
    }

    private ReplicatedSecretsApp() {
    }

    /** Adds the stack to {@code app}. */
    public static ReplicatedSecretsStack addStack(final App app) {
        return new ReplicatedSecretsStack(app, "ReplicatedSecrets", StackProps.builder()
                .env(Environment.builder().account(ACCOUNT).region(PRIMARY_REGION).build())
                .build());
    }

    public static void main(final String[] args) {
        App app = new App();
        addStack(app);
        app.synth();
    }
}
