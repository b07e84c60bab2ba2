package classad_test

import (
	"errors"
	"testing"

	"github.com/credmon/credmon/credmon/classad"
)

// The examples in this file come from the HTCondor manual, "HTCondor's
// ClassAd Mechanism" (htcondor/htcondor docs/classads/classad-mechanism.rst)
// unless a comment says otherwise.

// TestManualEqualityTables checks Tables 4.1 to 4.4 ("Evaluation examples
// for the ==, =?=, != and =!= operators").
func TestManualEqualityTables(t *testing.T) {
	runEval(t, nil, []evalCase{
		// Table 4.1
		{"(10 == 10)", "true"},
		{"(10 == 5)", "false"},
		{`(10 == "ABC")`, "error"},
		{`"ABC" == "abc"`, "true"},
		{"(10 == UNDEFINED)", "undefined"},
		{"(UNDEFINED == UNDEFINED)", "undefined"},
		// Table 4.2
		{"(10 =?= 10)", "true"},
		{"(10 =?= 5)", "false"},
		{`(10 =?= "ABC")`, "false"},
		{`"ABC" =?= "abc"`, "false"},
		{"(10 =?= UNDEFINED)", "false"},
		{"(UNDEFINED =?= UNDEFINED)", "true"},
		// Table 4.3
		{"(10 != 10)", "false"},
		{"(10 != 5)", "true"},
		{`(10 != "ABC")`, "error"},
		{`"ABC" != "abc"`, "false"},
		{"(10 != UNDEFINED)", "undefined"},
		{"(UNDEFINED != UNDEFINED)", "undefined"},
		// Table 4.4
		{"(10 =!= 10)", "false"},
		{"(10 =!= 5)", "true"},
		{`(10 =!= "ABC")`, "true"},
		{`"ABC" =!= "abc"`, "true"},
		{"(10 =!= UNDEFINED)", "true"},
		{"(UNDEFINED =!= UNDEFINED)", "false"},
		// "UNDEFINED is UNDEFINED evaluate[s] to ... TRUE"
		{"UNDEFINED is UNDEFINED", "true"},
		{"10 isnt UNDEFINED", "true"},
	})
}

// TestManualOperators checks the prose examples of "ClassAd Operators".
func TestManualOperators(t *testing.T) {
	runEval(t, nil, []evalCase{
		{`10 * "A string"`, "error"},                  // "the expression 10 * "A string" evaluates to the value ERROR"
		{"UNDEFINED && FALSE", "false"},               // "UNDEFINED && FALSE evaluates to FALSE"
		{"UNDEFINED || FALSE", "undefined"},           // "but UNDEFINED || FALSE evaluates to UNDEFINED"
		{`TRUE && "foobar"`, "error"},                 // "TRUE && "foobar" evaluates to ERROR"
		{"undefined ?: 3", "3"},                       // "when expr1 evaluated to UNDEFINED, the value of expr3"
		{"2 ?: 3", "2"},                               // "when expr1 is defined, that defined value is returned"
		{"TRUE ? 1 : 2", "1"},                         // "If all three expressions are given, the operation is strict"
		{`ifThenElse(0.0, "then", "else")`, `"else"`}, // ifThenElse: "0.0. Evaluate, and return ... ElseExpr"
		{`ifThenElse(1.5, "then", "else")`, `"then"`}, // "non-0.0 Real values ... ThenExpr"
		{`ifThenElse("s", "then", "else")`, "error"},  // "Where IfExpr evaluates to give a value of type String ... ERROR"
		{`ifThenElse(UNDEFINED, 1, 2)`, "undefined"},  // "UNDEFINED. Return the value UNDEFINED"
		{`ifThenElse(ERROR, 1, 2)`, "error"},          // "ERROR. Return the value ERROR"
	})
}

// TestManualFunctionExamples checks the examples the manual gives for
// join(), splitUserName() and splitSlotName().
func TestManualFunctionExamples(t *testing.T) {
	runEval(t, nil, []evalCase{
		{`join(", ", "a", "b", "c")`, `"a, b, c"`},
		{`join(split("a b c"))`, `"abc"`},
		{`join(";", split("a b c"))`, `"a;b;c"`},
		{`splitUserName("user@domain")`, `{"user", "domain"}`},
		{`splitUserName("username")`, `{"username", ""}`},
		{`splitSlotName("slot1@machine")`, `{"slot1", "machine"}`},
		{`splitSlotName("machinename")`, `{"", "machinename"}`},
	})
}

// TestManualOldNewSyntax uses the New-form ad of "ClassAds: Old and New".
func TestManualOldNewSyntax(t *testing.T) {
	ad := mustParseAd(t, `[
    Foo = 3;
    Bar = "ab\"cd\\ef";
    Moo = Foo isnt Undefined;
    ]`)
	runEval(t, ad, []evalCase{
		{"Foo", "3"},
		{"Bar", `"ab\"cd\\ef"`},
		{"size(Bar)", "8"},
		{"Moo", "true"},
	})
}

// TestManualMachineAd evaluates the example machine ClassAd at the top of
// the chapter, and the machine policy of "Constraints and Preferences".
func TestManualMachineAd(t *testing.T) {
	ad := mustParseAd(t, `[
    MyType       = "Machine";
    TargetType   = "Job";
    Machine      = "froth.cs.wisc.edu";
    Arch         = "INTEL";
    OpSys        = "LINUX";
    Disk         = 35882;
    Memory       = 128;
    KeyboardIdle = 173;
    LoadAvg      = 0.1000;
    Requirements = TARGET.Owner=="smith" || LoadAvg<=0.3 && KeyboardIdle>15*60;
    Owner         = "tannenba";
    Friend        = Owner == "tannenba" || Owner == "wright";
    ResearchGroup = Owner == "jbasney" || Owner == "raman";
    Trusted       = Owner != "rival" && Owner != "riffraff";
    START         = Trusted && ( ResearchGroup || LoadAvg < 0.3 && KeyboardIdle > 15*60 );
    RANK          = Friend + ResearchGroup*10;
    ]`)
	runEval(t, ad, []evalCase{
		// With one ad, TARGET.Owner is UNDEFINED; the && side is false.
		{"Requirements", "undefined"},
		{"Friend", "true"},
		{"ResearchGroup", "false"},
		{"Trusted", "true"},
		{"START", "false"},
		{"RANK", "1"},
		// "To find all computers which have had their keyboards idle for
		// more than 60 minutes and have more than 4000 MB of memory"
		{"KeyboardIdle > 60*60 && Memory > 4000", "false"},
		{`OpSys == "WINDOWS"`, "false"},
		{`OpSys == "linux"`, "true"},
	})
}

// TestManualRegexpConstraint is the condor_status -constraint example of
// "Querying with ClassAd Expressions".
func TestManualRegexpConstraint(t *testing.T) {
	ad := mustParseAd(t, `[
    MyType = "Generic";
    FauxType = "DBMS";
    Name = "random-test";
    Machine = "f05.cs.wisc.edu";
    MyAddress = "<128.105.149.105:34000>";
    DaemonStartTime = 1153192799;
    UpdateSequenceNumber = 1;
    ]`)
	runEval(t, ad, []evalCase{
		{`FauxType=="DBMS" && regexp("random.*", Name, "i")`, "true"},
		{`regexp("RANDOM.*", Name)`, "false"},
	})
}

// TestManualEvalIsUnsupported: the manual's eval() example,
// eval(strcat("slot", SlotID+10,"_State")), needs eval(), which Parse
// rejects as unsupported; the strcat() part works.
func TestManualEvalIsUnsupported(t *testing.T) {
	_, err := classad.Parse(`eval(strcat("slot", SlotID+10,"_State"))`)
	if !errors.Is(err, classad.ErrUnsupported) {
		t.Errorf("Parse(eval(...)) = %v; want ErrUnsupported", err)
	}
	ad := classad.NewAd()
	ad.SetInt("SlotID", 5)
	runEval(t, ad, []evalCase{{`strcat("slot", SlotID+10,"_State")`, `"slot15_State"`}})
}
