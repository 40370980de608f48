# Labels of googletest cases by feature, run by CTest after a test binary's cases are known
# (gvx_gtest_labels() in test/CMakeLists.txt adds it for each binary). Each case gets its
# binary's label and that of every feature whose pattern its name matches, so that
# `ctest -L ratelimit` runs the policy, store, API and authorizer cases of rate limits beside
# the script tests labelled ratelimit. A feature here is a label there too (test/README.md).
# A feature may have several patterns (one line each).
set(GVX_FEATURE_PATTERNS
    "token=TokenTest\\."
    "verify=Policy\\.(UnknownToken|Order|OwnerStanding|OwnerAsked|FactErrors|OutcomeCodes)"
    "verify=StoreTest\\.(Verify|Expired)|Gitflare\\."
    "verify=VerifyCostTest\\.|GroupCommit\\."
    "usage=Policy\\.(Usage|NegativeRemaining)|VerifyCountsUsage|EveryVerificationIsCounted"
    "ratelimit=RateLimit|FixedWindow|PerToken"
    "activity=Activity|HostileClientInfo|EachCheckIsCounted"
    "validation=Validate\\.|Name\\.|Rejects|BodyChecks|FieldErrors|ConfigValuesAreBounded"
    "validation=Nested|HugeInput"
    "lifetime=Lifetime"
    "scopes=Permissions|GitAccess\\.|Scopes\\."
    "json=Json\\.|Metadata|Nested|BetterAuthWire|JsonErrorShape"
    "sql=SqlFunctions\\."
    "cleanup=Purge|OldActivity|WalCheckpoints\\.|BusyWait\\."
    "migrations=Migrations|Gitflare\\.|StartupRace\\."
    "credentials=Credentials\\."
    "sessions=Cookie|SignsAsBetterAuthDoes"
    "cgi=CgiEnv\\.|\\.Request\\."
    "api=\\.Api\\.|CookieApi\\.|BetterAuthWire\\."
    "authorizer=Authorizer\\."
    "options=Options\\."
    "concurrency=Concurrency\\.|StartupRace\\.|GroupCommit\\.|BusyWait\\."
    "gitflare=Gitflare\\.|BetterAuthWire\\."
    "audit=Audit\\.")

foreach(gvx_test IN LISTS ${GVX_GTEST_LIST})
    set(gvx_labels ${GVX_GTEST_LABEL})
    foreach(gvx_rule IN LISTS GVX_FEATURE_PATTERNS)
        string(FIND "${gvx_rule}" "=" gvx_eq)
        string(SUBSTRING "${gvx_rule}" 0 ${gvx_eq} gvx_feature)
        math(EXPR gvx_eq "${gvx_eq} + 1")
        string(SUBSTRING "${gvx_rule}" ${gvx_eq} -1 gvx_pattern)
        if(gvx_test MATCHES "${gvx_pattern}")
            list(APPEND gvx_labels ${gvx_feature})
        endif()
    endforeach()
    list(REMOVE_DUPLICATES gvx_labels)
    set_tests_properties("${gvx_test}" PROPERTIES LABELS "${gvx_labels}")
endforeach()
