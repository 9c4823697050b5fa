package io.resident.hub;

import java.util.regex.Pattern;

/** A Hugging Face model id with the revision to use: org/name[@revision], revision main by default. */
record HubId(String repo, String revision) {

    static final String DEFAULT_REVISION = "main";

    // the Hub's own rule for names: letters, digits, '-', '_', '.'; the org is optional for old models
    private static final Pattern REPO = Pattern.compile("(?:[A-Za-z0-9][\\w.-]*/)?[A-Za-z0-9][\\w.-]*");
    // branches, tags, commits and pull-request refs (refs/pr/N); a revision also names a file under refs/
    private static final Pattern REVISION = Pattern.compile("[\\w.-]+(?:/[\\w.-]+)*");

    static HubId parse(String spec) {
        int at = spec.indexOf('@');
        String repo = at < 0 ? spec : spec.substring(0, at);
        String revision = at < 0 ? DEFAULT_REVISION : spec.substring(at + 1);
        if (!REPO.matcher(repo).matches() || !REVISION.matcher(revision).matches() || revision.contains("..")) {
            throw new HubException("'" + spec + "' is neither a model directory nor a Hugging Face id of the form org/name[@revision]");
        }
        return new HubId(repo, revision);
    }

    @Override
    public String toString() {
        return revision.equals(DEFAULT_REVISION) ? repo : repo + "@" + revision;
    }
}
