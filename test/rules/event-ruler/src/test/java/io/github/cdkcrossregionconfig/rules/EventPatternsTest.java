package io.github.cdkcrossregionconfig.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import software.amazon.event.ruler.Machine;

/**
 * Every EventBridge rule of the library's representative apps (exported by export-rules.ts) evaluated
 * by event-ruler, the matching engine of Amazon EventBridge, against events in the shapes AWS
 * documents: Secrets Manager calls via CloudTrail ("AWS API Call via CloudTrail" and, for rotation,
 * "AWS Service Event via CloudTrail"), "Parameter Store Change", the two CodePipeline state changes and
 * "Scheduled Event". All rules share one machine, as rules on one event bus do: each event must match
 * exactly the rules whose construct should receive it.
 *
 * <p>One documented over-match is accepted: a secret selected by exact name N is matched by its ARN
 * with the prefix "...:secret:N-", because a secret ARN ends in "-" and six random characters and
 * EventBridge patterns cannot count characters. A successful call on a secret named "N-x" whose
 * event carries its ARN (in secretId, responseElements or additionalEventData) therefore reaches the
 * handler, which selects secrets by name and ignores it. The test counts these events per rule.
 */
class EventPatternsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CLOUDTRAIL_API = "AWS API Call via CloudTrail";
  private static final String CLOUDTRAIL_SERVICE = "AWS Service Event via CloudTrail";
  /** The Secrets Manager calls that change a secret, and one that only reads. */
  private static final List<String> SECRET_CHANGES = List.of(
      "CreateSecret", "PutSecretValue", "UpdateSecret", "UpdateSecretVersionStage", "RotateSecret",
      "DeleteSecret", "RestoreSecret", "TagResource", "UntagResource");
  private static final List<String> PIPELINE_STATES = List.of(
      "CANCELED", "FAILED", "RESUMED", "STARTED", "STOPPED", "STOPPING", "SUCCEEDED", "SUPERSEDED");

  private static String account;
  private static String region;
  private static final List<JsonNode> RULES = new ArrayList<>();
  private static final Machine MACHINE = new Machine();
  private static final List<Sample> EVENTS = new ArrayList<>();
  /** Rule ids each event matched, by event index. */
  private static final List<Set<String>> MATCHED = new ArrayList<>();

  /** One generated event and the facts the expectations are stated in. */
  record Sample(String label, String json, String kind, String secretName, boolean carriesArn, boolean failed,
      String eventName, String parameterName, String pipeline, String detailType, String state) {
  }

  @BeforeAll
  static void load() throws Exception {
    String file = System.getProperty("event-rules.file");
    assertNotNull(file, "run with -Devent-rules.file=<rules.json written by export-rules.ts>");
    JsonNode root = JSON.readTree(new File(file));
    account = root.get("account").asText();
    region = root.get("region").asText();
    for (JsonNode rule : root.get("rules")) {
      RULES.add(rule);
      if (rule.hasNonNull("eventPattern")) {
        MACHINE.addRule(rule.get("id").asText(), JSON.writeValueAsString(rule.get("eventPattern")));
      }
    }
    generateEvents();
    for (Sample sample : EVENTS) {
      MATCHED.add(new HashSet<>(MACHINE.rulesForJSONEvent(sample.json())));
    }
    System.out.printf("event-ruler: %d rules (%d event patterns), %d events%n", RULES.size(),
        RULES.stream().filter(r -> r.hasNonNull("eventPattern")).count(), EVENTS.size());
  }

  // --- events in the shapes AWS documents ----------------------------------------------------------

  private static ObjectNode envelope(String source, String detailType, List<String> resources) {
    ObjectNode event = JSON.createObjectNode();
    event.put("version", "0");
    event.put("id", "6a7e8feb-b491-4cf7-a9f1-bf3703467718");
    event.put("detail-type", detailType);
    event.put("source", source);
    event.put("account", account);
    event.put("time", "2026-12-07T11:00:00Z");
    event.put("region", region);
    ArrayNode res = event.putArray("resources");
    resources.forEach(res::add);
    return event;
  }

  private static String secretArn(String name) {
    return "arn:aws:secretsmanager:" + region + ":" + account + ":secret:" + name + "-" + suffixOf(name);
  }

  /** The six random characters Secrets Manager appends; the ARNs that a test app names completely. */
  private static String suffixOf(String name) {
    for (JsonNode rule : RULES) {
      JsonNode arns = rule.path("secrets").path("fullArns");
      if (arns.has(name)) {
        String arn = arns.get(name).asText();
        return arn.substring(arn.length() - 6);
      }
    }
    return "Ab12Cd";
  }

  /**
   * A Secrets Manager call as EventBridge delivers it from CloudTrail. {@code arnField} is the
   * response field of the secret's ARN: "arn" since February 2024, "aRN" before for some calls, or
   * null for calls that return none (TagResource, UntagResource) or failed.
   */
  private static ObjectNode secretCall(String eventName, String secretName, boolean byArn, String arnField, boolean failed) {
    ObjectNode event = envelope("aws.secretsmanager", CLOUDTRAIL_API, List.of());
    ObjectNode detail = event.putObject("detail");
    detail.put("eventVersion", "1.09");
    ObjectNode identity = detail.putObject("userIdentity");
    identity.put("type", "AssumedRole");
    identity.put("principalId", "AROAEXAMPLEID:operator");
    identity.put("arn", "arn:aws:sts::" + account + ":assumed-role/operator/operator");
    identity.put("accountId", account);
    detail.put("eventTime", "2026-12-07T11:00:00Z");
    detail.put("eventSource", "secretsmanager.amazonaws.com");
    detail.put("eventName", eventName);
    detail.put("awsRegion", region);
    detail.put("sourceIPAddress", "192.0.2.10");
    detail.put("userAgent", "aws-cli/2.22.0");
    String id = byArn ? secretArn(secretName) : secretName;
    ObjectNode request = detail.putObject("requestParameters");
    switch (eventName) {
      case "CreateSecret" -> {
        request.put("name", secretName);
        request.put("clientRequestToken", "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111");
      }
      case "PutSecretValue" -> {
        request.put("secretId", id);
        request.put("clientRequestToken", "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222");
      }
      case "UpdateSecretVersionStage" -> {
        request.put("secretId", id);
        request.put("versionStage", "AWSCURRENT");
        request.put("moveToVersionId", "a1b2c3d4-5678-90ab-cdef-EXAMPLE33333");
        request.put("removeFromVersionId", "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222");
      }
      case "DeleteSecret" -> {
        request.put("secretId", id);
        request.put("recoveryWindowInDays", 7);
      }
      case "TagResource" -> {
        request.put("secretId", id);
        ObjectNode tag = request.putArray("tags").addObject();
        tag.put("key", "team");
        tag.put("value", "payments");
      }
      case "UntagResource" -> {
        request.put("secretId", id);
        request.putArray("tagKeys").add("team");
      }
      default -> request.put("secretId", id);
    }
    if (failed) {
      detail.put("errorCode", byArn || !eventName.equals("CreateSecret") ? "AccessDenied" : "ResourceExistsException");
      detail.put("errorMessage", "The request was denied");
      detail.putNull("responseElements");
    } else if (arnField == null) {
      detail.putNull("responseElements");
    } else {
      ObjectNode response = detail.putObject("responseElements");
      response.put(arnField, secretArn(secretName));
      response.put("name", secretName);
      if (eventName.equals("DeleteSecret")) response.put("deletionDate", "Dec 14, 2026, 11:00:00 AM");
      if (eventName.equals("CreateSecret") || eventName.equals("PutSecretValue") || eventName.equals("RotateSecret")) {
        response.put("versionId", "a1b2c3d4-5678-90ab-cdef-EXAMPLE33333");
      }
    }
    detail.put("requestID", "a1b2c3d4-5678-90ab-cdef-EXAMPLE44444");
    detail.put("eventID", "a1b2c3d4-5678-90ab-cdef-EXAMPLE55555");
    detail.put("readOnly", eventName.equals("GetSecretValue"));
    detail.put("eventType", "AwsApiCall");
    detail.put("managementEvent", true);
    detail.put("recipientAccountId", account);
    detail.put("eventCategory", "Management");
    return event;
  }

  /** The rotation service event: no request or response, the secret's ARN in additionalEventData. */
  private static ObjectNode rotationSucceeded(String secretName) {
    ObjectNode event = envelope("aws.secretsmanager", CLOUDTRAIL_SERVICE, List.of());
    ObjectNode detail = event.putObject("detail");
    detail.put("eventVersion", "1.09");
    ObjectNode identity = detail.putObject("userIdentity");
    identity.put("accountId", account);
    identity.put("invokedBy", "secretsmanager.amazonaws.com");
    detail.put("eventTime", "2026-12-07T11:00:00Z");
    detail.put("eventSource", "secretsmanager.amazonaws.com");
    detail.put("eventName", "RotationSucceeded");
    detail.put("awsRegion", region);
    detail.put("sourceIPAddress", "secretsmanager.amazonaws.com");
    detail.put("userAgent", "secretsmanager.amazonaws.com");
    detail.putNull("requestParameters");
    detail.putNull("responseElements");
    detail.putObject("additionalEventData").put("SecretId", secretArn(secretName));
    detail.put("requestID", "a1b2c3d4-5678-90ab-cdef-EXAMPLE66666");
    detail.put("eventID", "a1b2c3d4-5678-90ab-cdef-EXAMPLE77777");
    detail.put("readOnly", false);
    detail.put("eventType", "AwsServiceEvent");
    detail.put("managementEvent", true);
    detail.put("recipientAccountId", account);
    detail.put("eventCategory", "Management");
    return event;
  }

  private static ObjectNode parameterChange(String name, String operation) {
    ObjectNode event = envelope("aws.ssm", "Parameter Store Change",
        List.of("arn:aws:ssm:" + region + ":" + account + ":parameter" + name));
    ObjectNode detail = event.putObject("detail");
    detail.put("operation", operation);
    detail.put("name", name);
    detail.put("type", "String");
    detail.put("description", "");
    return event;
  }

  private static ObjectNode pipelineChange(String pipeline, boolean stage, String state) {
    ObjectNode event = envelope("aws.codepipeline",
        stage ? "CodePipeline Stage Execution State Change" : "CodePipeline Pipeline Execution State Change",
        List.of("arn:aws:codepipeline:" + region + ":" + account + ":" + pipeline));
    ObjectNode detail = event.putObject("detail");
    detail.put("pipeline", pipeline);
    detail.put("execution-id", "01234567-0123-0123-0123-012345678901");
    if (stage) detail.put("stage", "Deploy-eu-west-1");
    detail.put("state", state);
    detail.put("version", 3.0);
    detail.put("pipeline-execution-attempt", 1.0);
    return event;
  }

  private static ObjectNode scheduledEvent(String ruleName) {
    ObjectNode event = envelope("aws.events", "Scheduled Event",
        List.of("arn:aws:events:" + region + ":" + account + ":rule/" + ruleName));
    event.putObject("detail");
    return event;
  }

  private static void add(String label, ObjectNode event, String kind, String secretName, boolean byArn, boolean failed,
      String eventName, String parameterName, String pipeline, String detailType, String state) throws Exception {
    EVENTS.add(new Sample(label, JSON.writeValueAsString(event), kind, secretName, byArn, failed, eventName, parameterName,
        pipeline, detailType, state));
  }

  /** Secret names near each selected name and prefix: the selected ones, and ones that must not match. */
  private static Set<String> secretNames() {
    Set<String> names = new TreeSet<>(List.of("unrelated/secret", "App/DB"));
    for (JsonNode rule : RULES) {
      for (JsonNode n : rule.path("secrets").path("names")) {
        String name = n.asText();
        names.addAll(List.of(name, name + "-prod", name + "x", name + "/child", "x" + name, "other/" + name,
            name.substring(0, name.length() - 1)));
      }
      for (JsonNode p : rule.path("secrets").path("prefixes")) {
        String prefix = p.asText();
        String bare = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        names.addAll(List.of(prefix + "svc/key", prefix + "a", bare, bare + "-x/key", bare + "x/key", "other/" + prefix + "key"));
      }
    }
    return names;
  }

  private static Set<String> parameterNames() {
    Set<String> names = new TreeSet<>(List.of("/unrelated/parameter"));
    for (JsonNode rule : RULES) {
      List<String> paths = new ArrayList<>();
      if (rule.hasNonNull("parameterPath")) paths.add(rule.get("parameterPath").asText());
      for (JsonNode tree : rule.path("parameterTrees")) paths.add(tree.asText());
      for (String path : paths) {
        names.addAll(List.of(path, path + "/log_level", path + "/nested/cache_ttl", path + "x", path + "-old/key",
            path.substring(0, path.lastIndexOf('/')), "/other" + path));
      }
    }
    return names;
  }

  private static Set<String> pipelineNames() {
    Set<String> names = new TreeSet<>(List.of("unrelated-pipeline"));
    for (JsonNode rule : RULES) {
      if (!rule.has("pipeline")) continue;
      String name = rule.get("pipeline").get("name").asText();
      names.addAll(List.of(name, name + "-2", name.substring(0, name.length() - 1), "x" + name));
    }
    return names;
  }

  private static void generateEvents() throws Exception {
    for (String name : secretNames()) {
      for (String call : SECRET_CHANGES) {
        boolean returnsArn = !call.equals("TagResource") && !call.equals("UntagResource");
        for (boolean byArn : call.equals("CreateSecret") ? List.of(false) : List.of(false, true)) {
          for (String arnField : returnsArn ? List.of("arn", "aRN") : java.util.Collections.<String>singletonList(null)) {
            String label = call + " " + (byArn ? "by ARN " : "") + name + (arnField != null ? " (" + arnField + ")" : "");
            add(label, secretCall(call, name, byArn, arnField, false), "secret", name, byArn || arnField != null, false, call,
                null, null, null, null);
          }
          add(call + " failed " + (byArn ? "by ARN " : "") + name, secretCall(call, name, byArn, null, true),
              "secret", name, byArn, true, call, null, null, null, null);
        }
      }
      add("RotationSucceeded " + name, rotationSucceeded(name), "secret", name, true, false, "RotationSucceeded", null, null, null, null);
      add("GetSecretValue " + name, secretCall("GetSecretValue", name, false, "arn", false), "secret", name, false, false,
          "GetSecretValue", null, null, null, null);
    }
    for (String name : parameterNames()) {
      for (String operation : List.of("Create", "Update", "Delete", "LabelParameterVersion")) {
        add("Parameter Store Change " + operation + " " + name, parameterChange(name, operation), "parameter", null, false, false,
            null, name, null, null, null);
      }
    }
    for (String pipeline : pipelineNames()) {
      for (boolean stage : List.of(false, true)) {
        for (String state : PIPELINE_STATES) {
          if (stage && state.equals("SUPERSEDED")) continue;
          add((stage ? "Stage " : "Pipeline ") + state + " " + pipeline, pipelineChange(pipeline, stage, state), "pipeline", null,
              false, false, null, null, pipeline, stage ? "stage" : "execution", state);
        }
      }
    }
    for (JsonNode rule : RULES) {
      if (rule.hasNonNull("scheduleExpression")) {
        String name = rule.get("id").asText().replaceAll("[^A-Za-z0-9-]", "-");
        add("Scheduled Event " + name, scheduledEvent(name), "schedule", null, false, false, null, null, null, null, null);
      }
    }
  }

  // --- what each rule must match ----------------------------------------------------------------------

  private static boolean selects(JsonNode secrets, String name) {
    if (secrets.path("any").asBoolean(false)) return true;
    for (JsonNode n : secrets.path("names")) if (n.asText().equals(name)) return true;
    for (JsonNode p : secrets.path("prefixes")) if (name.startsWith(p.asText())) return true;
    return false;
  }

  /** The accepted over-match of the class comment: the ARN of "N-..." for a name-selected N. */
  private static boolean arnPrefixOverMatch(JsonNode secrets, Sample s) {
    if (!s.carriesArn() || s.failed()) return false;
    for (JsonNode n : secrets.path("names")) if (s.secretName().startsWith(n.asText() + "-")) return true;
    return false;
  }

  private static boolean expects(JsonNode rule, Sample s) {
    if (!rule.hasNonNull("eventPattern")) return false;
    if (rule.has("secrets")) {
      return s.kind().equals("secret") && !s.failed() && !s.eventName().equals("GetSecretValue")
          && selects(rule.get("secrets"), s.secretName());
    }
    if (rule.hasNonNull("parameterPath")) {
      String path = rule.get("parameterPath").asText();
      return s.kind().equals("parameter") && (s.parameterName().equals(path) || s.parameterName().startsWith(path + "/"));
    }
    if (rule.has("parameterTrees")) {
      // The parameters below each path, not the path itself (GetParametersByPath does not return it).
      if (!s.kind().equals("parameter")) return false;
      for (JsonNode tree : rule.get("parameterTrees")) if (s.parameterName().startsWith(tree.asText() + "/")) return true;
      return false;
    }
    if (rule.has("pipeline")) {
      JsonNode p = rule.get("pipeline");
      if (!s.kind().equals("pipeline") || !s.pipeline().equals(p.get("name").asText())) return false;
      JsonNode states = p.get(s.detailType().equals("stage") ? "stageStates" : "executionStates");
      for (JsonNode state : states) if (state.asText().equals(s.state())) return true;
      return false;
    }
    throw new IllegalStateException("rule " + rule.get("id") + " states no expectation");
  }

  @TestFactory
  Stream<DynamicTest> eachRuleMatchesWhatItShouldAndNothingElse() {
    return RULES.stream().filter(r -> r.hasNonNull("eventPattern")).map(rule -> DynamicTest.dynamicTest(rule.get("id").asText(), () -> {
      String id = rule.get("id").asText();
      List<String> missed = new ArrayList<>();
      List<String> extra = new ArrayList<>();
      int matched = 0;
      int overMatched = 0;
      for (int i = 0; i < EVENTS.size(); i++) {
        Sample s = EVENTS.get(i);
        boolean actual = MATCHED.get(i).contains(id);
        boolean expected = expects(rule, s);
        if (actual) matched++;
        if (actual && !expected && rule.has("secrets") && arnPrefixOverMatch(rule.get("secrets"), s)) {
          overMatched++;
        } else if (actual != expected) {
          (expected ? missed : extra).add(s.label());
        }
      }
      System.out.printf("  %-72s matched %4d of %d events (%d accepted ARN-prefix over-matches)%n", id, matched, EVENTS.size(), overMatched);
      assertEquals(List.of(), missed.subList(0, Math.min(missed.size(), 20)), id + " missed " + missed.size() + " events it should match");
      assertEquals(List.of(), extra.subList(0, Math.min(extra.size(), 20)), id + " matched " + extra.size() + " events it should not");
      assertTrue(matched > 0, id + " matched nothing");
    }));
  }

  private static final Pattern RATE = Pattern.compile("rate\\((\\d+) (minute|minutes|hour|hours|day|days)\\)");
  private static final Pattern CRON = Pattern.compile("cron\\((\\S+ ){5}\\S+\\)");

  @TestFactory
  Stream<DynamicTest> eachScheduleIsAValidScheduleExpressionAndMatchesNoEvent() {
    return RULES.stream().filter(r -> r.hasNonNull("scheduleExpression")).map(rule -> DynamicTest.dynamicTest(rule.get("id").asText(), () -> {
      String expression = rule.get("scheduleExpression").asText();
      assertFalse(rule.hasNonNull("eventPattern"), "a schedule has no event pattern");
      Matcher rate = RATE.matcher(expression);
      if (rate.matches()) {
        long value = Long.parseLong(rate.group(1));
        assertTrue(value > 0, expression + ": the value must be positive");
        // EventBridge rejects "rate(1 hours)" and "rate(2 hour)".
        assertEquals(value == 1, !rate.group(2).endsWith("s"), expression + ": singular unit exactly for 1");
      } else {
        assertTrue(CRON.matcher(expression).matches(), expression + " is neither rate(...) nor a six-field cron(...)");
      }
    }));
  }

  @Test
  void noPatternRuleMatchesAScheduledEventOrAnotherService() {
    Map<String, Set<String>> wrong = new LinkedHashMap<>();
    for (int i = 0; i < EVENTS.size(); i++) {
      Sample s = EVENTS.get(i);
      for (String id : MATCHED.get(i)) {
        JsonNode rule = RULES.stream().filter(r -> r.get("id").asText().equals(id)).findFirst().orElseThrow();
        boolean sameService = rule.has("secrets") ? s.kind().equals("secret")
            : rule.hasNonNull("parameterPath") || rule.has("parameterTrees") ? s.kind().equals("parameter") : s.kind().equals("pipeline");
        if (!sameService) wrong.computeIfAbsent(id, k -> new LinkedHashSet<>()).add(s.label());
      }
    }
    assertEquals(Map.of(), wrong);
    long scheduled = EVENTS.stream().filter(s -> s.kind().equals("schedule")).count();
    assertTrue(scheduled > 0, "Scheduled Events were generated");
  }

  @Test
  void everyConstructKindIsCovered() {
    Set<String> kinds = new TreeSet<>();
    for (JsonNode rule : RULES) {
      String id = rule.get("id").asText();
      if (id.contains("/Replicator/Rule")) kinds.add("replicator rule");
      if (id.contains("Syncer/ParameterRule")) kinds.add("syncer parameter rule");
      if (id.contains("Syncer/SecretRule")) kinds.add("syncer secret rule");
      if (id.contains("/DriftDetector/Schedule")) kinds.add("drift schedule");
      if (id.contains("/Replicator/Schedule")) kinds.add("reconcile schedule");
      if (id.contains("/PipelineEvents")) kinds.add("pipeline watcher rule");
    }
    assertEquals(new TreeSet<>(List.of("drift schedule", "pipeline watcher rule", "reconcile schedule", "replicator rule",
        "syncer parameter rule", "syncer secret rule")), kinds);
  }
}
